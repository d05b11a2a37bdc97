package istio

import (
	"fmt"
	"strconv"
	"strings"

	"istio.io/api/networking/v1alpha3"
)

func validateDestinationRule(d *docInfo, dr *v1alpha3.DestinationRule) error {
	if !isMeshService(dr.GetHost()) {
		return d.errorf("spec.host", "unknown host %q, expected one of %s", dr.GetHost(), meshServicesText)
	}
	seen := map[string]int{}
	for i, s := range dr.GetSubsets() {
		path := fmt.Sprintf("spec.subsets[%d]", i)
		if !dns1123Label.MatchString(s.GetName()) {
			return d.errorf(path+".name", "invalid subset name %q, expected a DNS label such as v1", s.GetName())
		}
		if j, dup := seen[s.GetName()]; dup {
			return d.errorf(path+".name", "duplicate subset %q (also spec.subsets[%d]), expected unique subset names", s.GetName(), j)
		}
		seen[s.GetName()] = i
		if len(s.GetLabels()) == 0 {
			return d.errorf(path+".labels", "missing labels, expected the pod labels of the subset such as version: v1")
		}
	}
	return nil
}

func validateGateway(d *docInfo, gw *v1alpha3.Gateway) error {
	if len(gw.GetServers()) == 0 {
		return d.errorf("spec.servers", "missing servers, expected at least one server")
	}
	for i, s := range gw.GetServers() {
		path := fmt.Sprintf("spec.servers[%d]", i)
		if n := s.GetPort().GetNumber(); n == 0 || n > 65535 {
			return d.errorf(path+".port.number", "port %d is out of range, expected 1 to 65535", n)
		}
		if p := strings.ToUpper(s.GetPort().GetProtocol()); p != "HTTP" && p != "HTTP2" {
			return d.errorf(path+".port.protocol", "protocol %q is not supported by the local mesh, expected HTTP or HTTP2", s.GetPort().GetProtocol())
		}
		if len(s.GetHosts()) == 0 {
			return d.errorf(path+".hosts", "missing hosts, expected at least one host such as \"*\"")
		}
		for j, h := range s.GetHosts() {
			if h == "" {
				return d.errorf(fmt.Sprintf("%s.hosts[%d]", path, j), "empty host, expected a host name or \"*\"")
			}
		}
	}
	return nil
}

func validateFault(d *docInfo, path string, f *v1alpha3.HTTPFaultInjection) error {
	if f.GetDelay() == nil && f.GetAbort() == nil {
		return d.errorf(path, "empty fault, expected delay, abort or both")
	}
	if dl := f.GetDelay(); dl != nil {
		if dl.GetFixedDelay() == nil {
			return d.errorf(path+".delay.fixedDelay", "missing fixedDelay, expected a duration such as \"5s\"")
		}
		if err := validateDuration(d, path+".delay.fixedDelay", dl.GetFixedDelay()); err != nil {
			return err
		}
		if err := validatePercent(d, path+".delay.percentage", dl.GetPercentage()); err != nil {
			return err
		}
	}
	if ab := f.GetAbort(); ab != nil {
		if _, ok := ab.GetErrorType().(*v1alpha3.HTTPFaultInjection_Abort_HttpStatus); !ok {
			return d.errorf(path+".abort.httpStatus", "missing httpStatus, expected an HTTP status from 200 to 599")
		}
		if s := ab.GetHttpStatus(); s < 200 || s > 599 {
			return d.errorf(path+".abort.httpStatus", "httpStatus %d is out of range, expected 200 to 599", s)
		}
		return validatePercent(d, path+".abort.percentage", ab.GetPercentage())
	}
	return nil
}

func validateRetries(d *docInfo, path string, r *v1alpha3.HTTPRetry) error {
	if r.GetAttempts() < 0 {
		return d.errorf(path+".attempts", "attempts %d is negative, expected 0 or more", r.GetAttempts())
	}
	if err := validateDuration(d, path+".perTryTimeout", r.GetPerTryTimeout()); err != nil {
		return err
	}
	for _, c := range retryOnList(r.GetRetryOn()) {
		if code, err := strconv.Atoi(c); err == nil && code >= 100 && code <= 599 || retryConditions[c] {
			continue
		}
		return d.errorf(path+".retryOn", "unknown retry condition %q, expected a comma-separated list of "+
			"5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, "+
			"unavailable, cancelled, deadline-exceeded, resource-exhausted or HTTP status codes such as 503", c)
	}
	return nil
}

// retryOnList splits a retryOn value into its trimmed conditions.
func retryOnList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	list := strings.Split(s, ",")
	for i := range list {
		list[i] = strings.TrimSpace(list[i])
	}
	return list
}
