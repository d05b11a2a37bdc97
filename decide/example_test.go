package decide_test

import (
	"fmt"

	"github.com/canary-gate/canary/decide"
)

// A 50/50 rollout stage fed pages whose versions alternate exactly: the
// verdict is checked after every page and stops at the first decision.
func Example() {
	e, err := decide.ParseExpect("v1=50,v3=50")
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := decide.NewSequential(decide.DefaultCriteria(e))
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; s.Verdict() == decide.Pending; i++ {
		version := []string{"v1", "v3"}[i%2]
		s.Add(version, true, 0)
	}
	d := s.Decision()
	fmt.Println(d.Verdict, d.N)
	fmt.Println(d.Reason)
	// Output:
	// PASS 620
	// every share is within its expected value ± 5 at 95% confidence after 620 pages, each side shown by a one-sided test at 95% (intersection-union): v1 50.0% (expected 50%) above 45% from page 601 and below 55% from page 620, v3 50.0% (expected 50%) above 45% from page 620 and below 55% from page 601; no page came from another version
}

// One page from a version that should get no traffic fails the stage.
func ExampleSequential_Add() {
	e, _ := decide.ParseExpect("v1=100")
	s, _ := decide.NewSequential(decide.DefaultCriteria(e))
	for _, v := range []string{"v1", "v1", "", "v1", "v2"} {
		s.Add(v, v != "", 0)
	}
	fmt.Println(s.Verdict(), "-", s.Decision().Reason)
	// Output:
	// FAIL - 1 page from v2, which should get 0%
}

func ExampleParseExpect() {
	_, err := decide.ParseExpect("v1=50,v3=40")
	fmt.Println(err)
	e, _ := decide.ParseExpect("v1 = 33.3, v2 = 33.3, v3 = 33.4")
	fmt.Println(e)
	// Output:
	// invalid expectation "v1=50,v3=40": percentages sum to 90, not 100
	// v1=33.3,v2=33.3,v3=33.4
}
