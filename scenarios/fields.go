package scenarios

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The keys of each mapping in a scenario file, kebab-case like the flags
// of `canary verify`.

func (d *decoder) scenarioFields(s *Scenario) map[string]field {
	return map[string]field{
		"name":        d.str(&s.Name, "the scenario's name"),
		"description": d.str(&s.Description, "text"),
		"target":      d.str(&s.Target, "a page URL such as http://127.0.0.1:8080/productpage"),
		"defaults":    func(n *yaml.Node, p string) error { return d.mapping(n, p, d.gateFields(&s.Defaults)) },
		"stages": func(n *yaml.Node, p string) error {
			if n.Kind != yaml.SequenceNode {
				return d.nodeErr(n, p, "got %s, expected a list of stages", describe(n))
			}
			s.Stages = make([]Stage, len(n.Content))
			return d.sequence(n, p, func(i int, n *yaml.Node, p string) error {
				st := &s.Stages[i]
				st.Line = n.Line
				return d.mapping(n, p, d.stageFields(st))
			})
		},
	}
}

// gateFields are the keys of defaults; stages take them too.
func (d *decoder) gateFields(g *Gate) map[string]field {
	return map[string]field{
		"rate":           d.str(&g.Rate, "a rate such as 20/s"),
		"tolerance":      d.float(&g.Tolerance),
		"confidence":     d.float(&g.Confidence),
		"max-requests":   d.int(&g.MaxRequests),
		"max-error-rate": d.float(&g.MaxErrorRate),
		"timeout":        d.duration(&g.Timeout),
		"settle-timeout": d.duration(&g.SettleTimeout),
		"settle-min":     d.duration(&g.SettleMin),
		"settle":         d.str(&g.Settle, "auto or 0"),
		"prometheus": func(n *yaml.Node, p string) error {
			g.Prometheus = &Prometheus{}
			return d.mapping(n, p, d.prometheusFields(g.Prometheus))
		},
		"scrape":            d.strList(&g.Scrape, "a metrics URL"),
		"headers":           d.strMap(&g.Headers),
		"login":             d.str(&g.Login, "a user name"),
		"host":              d.str(&g.Host, "a service name such as reviews"),
		"backends":          d.strList(&g.Backends, "a Service name such as reviews-v1"),
		"namespace":         d.str(&g.Namespace, "a namespace such as default"),
		"health":            d.boolean(func(b bool) { g.Health = &b }),
		"baseline":          d.str(&g.Baseline, "a version such as v1"),
		"error-margin":      d.str(&g.ErrorMargin, "RATIOx,POINTS such as 2x,0.1"),
		"latency-margin":    d.str(&g.LatencyMargin, "PERCENT%,DURATION such as 10%,2ms"),
		"latency-quantiles": d.str(&g.LatencyQuantiles, "quantiles such as p50,p90,p99"),
	}
}

func (d *decoder) prometheusFields(p *Prometheus) map[string]field {
	return map[string]field{
		"url":               d.str(&p.URL, "a URL such as http://127.0.0.1:9090"),
		"bearer-token-file": d.str(&p.BearerTokenFile, "a file name"),
		"basic-auth-file":   d.str(&p.BasicAuthFile, "a file name"),
		"headers":           d.strMap(&p.Headers),
		"ca-file":           d.str(&p.CAFile, "a file name"),
		"insecure":          d.boolean(func(b bool) { p.Insecure = b }),
		"require":           d.boolean(func(b bool) { p.Require = &b }),
	}
}

func (d *decoder) stageFields(st *Stage) map[string]field {
	f := d.gateFields(&st.Gate)
	f["name"] = d.str(&st.Name, "the stage's name")
	f["description"] = d.str(&st.Description, "text")
	f["apply"] = d.step(&st.Apply)
	f["expect"] = d.str(&st.Expect, "VERSION=PERCENT pairs such as v1=90,v3=10")
	f["expect-from"] = d.str(&st.ExpectFrom, "a VirtualService file")
	f["mirror"] = d.str(&st.Mirror, "VERSION or VERSION=PERCENT")
	f["pause"] = d.duration(&st.Pause)
	f["on-fail"] = d.step(&st.OnFail)
	return f
}

func (d *decoder) step(p **Step) field {
	return func(n *yaml.Node, path string) error {
		st := &Step{Line: n.Line}
		*p = st
		return d.mapping(n, path, map[string]field{
			"command":   d.str(&st.Command, "a shell command"),
			"timeout":   d.duration(&st.Timeout),
			"manifests": d.strList(&st.Manifests, "a manifest file"),
			"kube":      d.str(&st.Kube, "a manifest file to apply to the cluster"),
			"inline": func(n *yaml.Node, path string) error {
				if n.Style&yaml.LiteralStyle != 0 {
					d.inline[path] = n.Line
				}
				return d.str(&st.Inline, "Istio manifests as YAML text (inline: |)")(n, path)
			},
		})
	}
}

// scalar returns the text of a scalar node; other nodes and null are errors.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", d.nodeErr(n, path, "got %s, expected %s", describe(n), want)
	}
	return n.Value, nil
}

func (d *decoder) str(p *string, want string) field {
	return func(n *yaml.Node, path string) error {
		s, err := d.scalar(n, path, want)
		*p = s
		return err
	}
}

func (d *decoder) float(p **float64) field {
	return func(n *yaml.Node, path string) error {
		s, err := d.scalar(n, path, "a number")
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || n.ShortTag() == "!!bool" {
			return d.nodeErr(n, path, "got %s, expected a number", describe(n))
		}
		*p = &f
		return nil
	}
}

func (d *decoder) int(p **int) field {
	return func(n *yaml.Node, path string) error {
		s, err := d.scalar(n, path, "a whole number")
		if err != nil {
			return err
		}
		i, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return d.nodeErr(n, path, "got %s, expected a whole number", describe(n))
		}
		*p = &i
		return nil
	}
}

func (d *decoder) boolean(set func(bool)) field {
	return func(n *yaml.Node, path string) error {
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return d.nodeErr(n, path, "got %s, expected true or false", describe(n))
		}
		set(strings.EqualFold(n.Value, "true"))
		return nil
	}
}

func (d *decoder) duration(p *Duration) field {
	return func(n *yaml.Node, path string) error {
		s, err := d.scalar(n, path, "a duration such as 30s or 2m")
		if err != nil {
			return err
		}
		v, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return d.nodeErr(n, path, "got %s, expected a duration such as 30s or 2m", describe(n))
		}
		if v < 0 {
			return d.nodeErr(n, path, "got %s, expected a duration of 0 or more", describe(n))
		}
		*p = Duration(v)
		return nil
	}
}

// strList decodes a list of strings; a single string is a list of one.
func (d *decoder) strList(p *[]string, want string) field {
	return func(n *yaml.Node, path string) error {
		*p = nil
		return d.sequence(n, path, func(_ int, n *yaml.Node, path string) error {
			s, err := d.scalar(n, path, want)
			*p = append(*p, s)
			return err
		})
	}
}

// strMap decodes a mapping of strings to strings, such as headers.
func (d *decoder) strMap(p *map[string]string) field {
	return func(n *yaml.Node, path string) error {
		if n.Kind != yaml.MappingNode {
			return d.nodeErr(n, path, "got %s, expected a mapping of names to values", describe(n))
		}
		m := map[string]string{}
		*p = m
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := d.scalar(n.Content[i], path, "a name")
			if err != nil {
				return err
			}
			kpath := joinPath(path, k)
			if _, dup := m[k]; dup {
				return d.nodeErr(n.Content[i], kpath, "duplicate key, expected each name once")
			}
			v, err := d.resolve(n.Content[i+1], kpath)
			if err != nil {
				return err
			}
			if m[k], err = d.scalar(v, kpath, "a text value"); err != nil {
				return err
			}
			d.lines[kpath] = v.Line
		}
		return nil
	}
}

// unknownKey explains a key that is not in fields, suggesting the nearest.
func unknownKey(key string, fields map[string]field) string {
	if key == "<<" {
		return `merge keys (<<) are not supported, expected shared settings under defaults`
	}
	norm := strings.ToLower(strings.NewReplacer("_", "-", " ", "-").Replace(key))
	best, bestDist := "", 3
	for k := range fields {
		if dist := editDistance(norm, k); dist < bestDist || dist == bestDist && k < best {
			best, bestDist = k, dist
		}
	}
	if best != "" && bestDist <= 2 {
		return fmt.Sprintf("unknown key %q, expected %q", key, best)
	}
	return fmt.Sprintf("unknown key %q, expected one of %s", key, knownKeys(fields))
}

func knownKeys(fields map[string]field) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cur := row[j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			row[j] = min(row[j]+1, row[j-1]+1, prev+cost)
			prev = cur
		}
	}
	return row[len(b)]
}
