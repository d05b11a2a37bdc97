package scenarios_test

import (
	"fmt"

	"github.com/canary-gate/canary/scenarios"
)

func ExampleLoad() {
	s, err := scenarios.Load("rollout.yaml", []byte(`
name: rollout
defaults:
  rate: 20/s
  tolerance: 5
stages:
- name: canary-10
  apply:
    command: kubectl apply -f reviews-90-10.yaml
  expect: v1=90,v3=10
  tolerance: 3
  on-fail:
    command: kubectl apply -f reviews-v1.yaml
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	g := s.StageGate(0)
	fmt.Println(s.Stages[0].Name, s.Stages[0].Expect, g.Rate, *g.Tolerance, s.Stages[0].OnFail.Timeout)

	_, err = scenarios.Load("rollout.yaml", []byte("name: r\nstages:\n- name: canary\n  expect: v1=90,v3=20\n"))
	fmt.Println(err)
	// Output:
	// canary-10 v1=90,v3=10 20/s 3 2m0s
	// rollout.yaml:4: stages[0].expect: got "v1=90,v3=20", whose percentages sum to 110, expected VERSION=PERCENT pairs summing to 100 such as v1=90,v3=10
}
