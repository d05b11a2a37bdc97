package lab_test

import (
	"context"
	"testing"
	"time"

	"github.com/canary-gate/canary/internal/labtest"
	istio "istio.io/client-go/pkg/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// TestLab starts the real control plane and checks what the lab promises:
// Istio's resources are served, NodePorts may be any loopback port, and a
// user outside system:masters is refused by RBAC.
func TestLab(t *testing.T) {
	l, _ := labtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ic, err := istio.NewForConfig(l.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ic.NetworkingV1().VirtualServices("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list VirtualServices: %v", err)
	}
	cs := kubernetes.NewForConfigOrDie(l.Config)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "np"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{
			{Name: "http2", Port: 80, NodePort: 41234},
		}},
	}
	if _, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("NodePort 41234: %v", err)
	}
	kc, err := l.AddUser("viewer", "viewers")
	if err != nil {
		t.Fatal(err)
	}
	vcfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = kubernetes.NewForConfigOrDie(vcfg).CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("viewer lists pods: err = %v; want Forbidden", err)
	}
}
