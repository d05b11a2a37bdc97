package cluster_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/cluster"
	"github.com/canary-gate/canary/internal/labtest"
	"github.com/canary-gate/canary/internal/promtest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPrometheusThroughServiceProxy: a ClusterIP Prometheus, as most
// clusters have it, reached through the API server's service proxy with the
// kubeconfig's client certificate. The API server proxies only to pod
// addresses outside loopback, so this Prometheus runs on a test host of the
// test's own (a network namespace), behind a Pod and Endpoints as the
// kubelet and the endpoints controller would write them.
func TestPrometheusThroughServiceProxy(t *testing.T) {
	bin := promtest.Binary(t)
	l, kubeconfig := labtest.Start(t)
	host := labtest.NewHost(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("scrape_configs: [{job_name: self, static_configs: [{targets: ['"+host.IP+":9090']}]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := host.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+host.IP+":9090", "--log.level=warn")
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = prom.Process.Kill(); _ = prom.Wait() })
	waitReady(t, "http://"+host.IP+":9090/-/ready")

	cl, err := cluster.Load(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cl.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "istio-system"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := cl.Kube.CoreV1().Pods("istio-system").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-0", Namespace: "istio-system", Labels: map[string]string{"app": "prometheus"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "prometheus-server", Image: "prom/prometheus"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: host.IP, PodIPs: []corev1.PodIP{{IP: host.IP}}}
	if _, err := cl.Kube.CoreV1().Pods("istio-system").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus", Namespace: "istio-system"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "prometheus"}, Ports: []corev1.ServicePort{{Name: "http", Port: 9090}}},
	}
	if _, err := cl.Kube.CoreV1().Services("istio-system").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eps := &corev1.Endpoints{ // the service proxy reads Endpoints, not EndpointSlices
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus", Namespace: "istio-system"},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: host.IP, TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "istio-system", Name: pod.Name, UID: pod.UID}}},
			Ports:     []corev1.EndpointPort{{Name: "http", Port: 9090}},
		}},
	}
	if _, err := cl.Kube.CoreV1().Endpoints("istio-system").Create(ctx, eps, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	p, err := cl.Prometheus(ctx, "istio-system", "prometheus")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSuffix(l.Config.Host, "/") + "/api/v1/namespaces/istio-system/services/prometheus:9090/proxy"; p.URL != want || p.Transport == nil || !strings.Contains(p.Why, "service proxy") {
		t.Fatalf("Prometheus = %+v (transport %v); want %s with the kubeconfig's transport", p.Found, p.Transport != nil, want)
	}
	resp, err := (&http.Client{Transport: p.Transport, Timeout: 10 * time.Second}).Get(p.URL + "/api/v1/query?query=up")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"success"`) {
		t.Errorf("query through the service proxy: %s %s", resp.Status, body)
	}
	// Without the kubeconfig's credentials the proxy is closed.
	anon := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err = anon.Get(p.URL + "/api/v1/query?query=up")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		t.Errorf("the service proxy without credentials: %s; want 401 or 403", resp.Status)
	}
	// What discovery says is printed: it must hold no credential.
	if key := string(l.Config.KeyData); len(key) == 0 || strings.Contains(p.Why+p.URL, "BEGIN") || strings.Contains(p.Why+p.URL, key) {
		t.Errorf("discovery says %q at %q; a credential must never be printed", p.Why, p.URL)
	}
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready within 30s", url)
}
