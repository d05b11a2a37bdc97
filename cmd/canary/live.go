package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/redact"
	"github.com/canary-gate/canary/internal/textfmt"
	"github.com/canary-gate/canary/live"
	"github.com/canary-gate/canary/prom"
	"github.com/canary-gate/canary/report"
	"github.com/canary-gate/canary/scenarios"
	"github.com/canary-gate/canary/verify"
)

// listenFlag serves the live view; verify, soak, run and demo take it.
func listenFlag() cli.Flag {
	return &cli.StringFlag{Name: "listen", Usage: "serve a live view of the run at `ADDR` (PORT or :PORT binds 127.0.0.1; 0.0.0.0:PORT every interface): a page at / and its state as JSON at /api/state (see README)"}
}

// startLive serves a live view when --listen is given and says where on
// stderr; it returns nil without --listen. The view stops with ctx.
func startLive(ctx context.Context, c *cli.Command, command string) (*live.Board, error) {
	addr := c.String("listen")
	if addr == "" {
		return nil, nil
	}
	if _, err := live.ListenAddr(addr); err != nil {
		return nil, usageError(fmt.Errorf("--listen: %w", err))
	}
	b := live.NewBoard(command)
	url, err := b.Serve(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", addr, err)
	}
	fmt.Fprintf(c.ErrWriter, "live view: %s (state as JSON at %sapi/state)\n", url, url)
	return b, nil
}

// liveGate points a gate's progress at the board, after whatever the
// options already did with it.
func liveGate(b *live.Board, o *verify.Options) {
	if b == nil {
		return
	}
	b.Update(func(st *live.State) {
		st.Target, st.Service = redact.URL(o.Attack.Target), o.Service
		st.Bookinfo = o.Classifier == ""
		st.Unit = "page"
		if o.Classifier != "" {
			st.Unit = "response"
		}
		if o.Passive {
			st.Target, st.Unit = "", "request"
		}
		st.SetExpect(o.Criteria.Expect, o.Criteria.Tolerance)
	})
	prev := o.Progress
	o.Progress = func(p verify.Progress) {
		if prev != nil {
			prev(p)
		}
		b.Update(func(st *live.State) {
			st.SetDecision(p.Decision)
			st.SetLoad(p.Load, true)
		})
	}
}

// liveResult shows a gate's final verdict and the load's final summary
// (a short gate can end before its first progress report).
func liveResult(b *live.Board, res *verify.Result) {
	if b == nil || res == nil {
		return
	}
	b.Update(func(st *live.State) {
		st.SetDecision(res.Client)
		st.SetLoad(res.Load, true)
		st.Verdict, st.Reason, st.Done = res.Verdict.String(), res.Reason, true
	})
}

// meshPoll is how often the live view reads the mesh's counts.
const meshPoll = 2 * time.Second

// followMesh feeds the board Istio's counts of q's requests from now on,
// read from Prometheus every meshPoll until ctx ends, so that the page
// shows the mesh's edges beside the client's. A failed read is shown on
// the page and changes no count.
func followMesh(ctx context.Context, b *live.Board, c *prom.Client, q verify.ServerQuery) {
	if b == nil || c == nil {
		return
	}
	w := verify.NewWatch(c, q, time.Now())
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	scrape, _ := c.ScrapeInterval(qctx, w.Selector())
	cancel()
	if scrape <= 0 {
		scrape = 15 * time.Second // Istio's Prometheus default
	}
	b.Update(func(st *live.State) {
		st.Mesh = &live.Mesh{Source: redact.URL(c.URL()), Query: w.Selector(), Window: max(2*live.RateWindow, 4*scrape).Seconds()}
	})
	counts, errs := map[string]int{}, map[string]int{}
	t := time.NewTicker(meshPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rs, err := w.Next(ctx)
		tallyResponses(counts, errs, rs)
		b.Update(func(st *live.State) {
			if err != nil {
				st.Mesh.Error = oneLine(err)
				return
			}
			st.Mesh.Error, st.Mesh.Polled = "", time.Now()
			st.SetMesh(counts, errs)
		})
	}
}

// tallyResponses adds each version's requests to counts and its 5xx
// answers to errs: what the page shows of the mesh's counts.
func tallyResponses(counts, errs map[string]int, rs []verify.Response) {
	for _, r := range rs {
		counts[r.Version] += r.Count
		if r.Code >= 500 {
			errs[r.Version] += r.Count
		}
	}
}

// watch points a soak's load at the board: counts, latency and failures
// every second, the alarms and the verdict so far, and the mesh's counts
// when the soak reads Prometheus. The terminal's status lines keep their
// own cadence (--every).
func (s *soak) watch(ctx context.Context, b *live.Board, c *cli.Command, o *attack.Options) {
	if b == nil {
		return
	}
	b.Update(func(st *live.State) {
		st.Target, st.Service = redact.URL(o.Target), c.String("host")
		custom := c.String("rules") != "" || c.String("version-header") != ""
		st.Bookinfo = !custom
		if custom {
			st.Unit = "response"
		}
		setWindowExpect(st, s.wc)
	})
	prev, every, last := o.Progress, o.Every, time.Time{}
	o.Every = time.Second
	o.Progress = func(sum *attack.Summary) {
		if prev != nil && every > 0 && time.Since(last) >= every-100*time.Millisecond {
			last = time.Now()
			prev(sum)
		}
		b.Update(func(st *live.State) {
			st.SetLoad(sum, false)
			s.soFar(st)
		})
	}
	if s.server != nil && s.server.client != nil {
		q := verify.ServerQuery{Service: c.String("host"), Namespace: c.String("namespace"), Backends: c.StringSlice("backend")}
		go followMesh(ctx, b, s.server.client, q)
	}
}

// final shows the soak's verdict and every alarm.
func (s *soak) final(b *live.Board, rep *report.Report) {
	if b == nil {
		return
	}
	b.Update(func(st *live.State) {
		st.Alarms = liveAlarms(rep.Alarms)
		st.Verdict, st.Reason, st.Done = rep.Verdict, rep.Reason, true
	})
}

func liveAlarms(as []decide.Alarm) []live.Alarm {
	out := make([]live.Alarm, 0, len(as))
	for _, a := range as {
		out = append(out, live.Alarm{Window: a.Start, Kind: string(a.Kind), Version: a.Version, Message: a.Message})
	}
	return out
}

// liveRun points a run's stages at the board: the stage list with the one
// in progress, each stage's gate as it runs (and the mesh's counts when
// the gate reads Prometheus), and each stage's verdict as it ends.
func liveRun(ctx context.Context, b *live.Board, sc *scenarios.Scenario, env *verify.ScenarioEnv) {
	if b == nil {
		return
	}
	b.Update(func(st *live.State) {
		st.Target = redact.URL(cmp.Or(env.Target, sc.Target))
		for _, s := range sc.Stages {
			st.Stages = append(st.Stages, live.Stage{Name: s.Name})
		}
	})
	stopMesh := func() {}
	prevStart, prevStage, prevPrepare := env.OnStart, env.OnStage, env.Prepare
	env.OnStart = func(i int, name string) {
		if prevStart != nil {
			prevStart(i, name)
		}
		b.Restart(func(st *live.State) {
			for j := range st.Stages {
				st.Stages[j].Current = j == i
			}
			st.Reason = fmt.Sprintf("stage %d/%d %s: applying", i+1, len(sc.Stages), name)
		})
	}
	env.Prepare = func(o *verify.Options) {
		if prevPrepare != nil {
			prevPrepare(o)
		}
		liveGate(b, o)
		if !o.Passive && o.ServerSeries == "" && o.Prometheus != nil {
			var mctx context.Context
			mctx, stopMesh = context.WithCancel(ctx)
			go followMesh(mctx, b, o.Prometheus, verify.ServerQuery{Service: o.Service, Namespace: o.Namespace, Backends: o.Backends})
		}
	}
	env.OnStage = func(s verify.StageResult) {
		if prevStage != nil {
			prevStage(s)
		}
		stopMesh()
		b.Update(func(st *live.State) {
			if s.Gate != nil {
				st.SetDecision(s.Gate.Client)
				st.SetLoad(s.Gate.Load, true)
			}
			st.Verdict, st.Reason = verdictWord(s), firstLine(s)
			for j := range st.Stages {
				if st.Stages[j].Current {
					st.Stages[j].Verdict, st.Stages[j].Reason, st.Stages[j].Current = verdictWord(s), firstLine(s), false
				}
			}
		})
	}
}

// liveRunDone shows the run's verdict.
func liveRunDone(b *live.Board, res *verify.ScenarioResult) {
	if b == nil {
		return
	}
	b.Update(func(st *live.State) {
		st.Verdict, st.Reason, st.Done = res.Word(), res.Reason, true
	})
}

// setWindowExpect shows a soak's expectation and confidence.
func setWindowExpect(st *live.State, wc decide.WindowCriteria) {
	st.SetExpect(wc.Expect, wc.Tolerance)
	st.Confidence = wc.Confidence
}

// showPassive shows a passive soak after each window: Istio's counts are
// its only witness, shown as the client's, and the alarms so far.
func (s *soak) showPassive(b *live.Board, counts, errs map[string]int, readErr error) {
	if b == nil {
		return
	}
	b.Update(func(st *live.State) {
		st.SetCounts(counts, errs)
		st.Mesh.Error = ""
		if readErr != nil {
			st.Mesh.Error = oneLine(readErr)
		} else {
			st.Mesh.Polled = time.Now()
		}
		s.soFar(st)
	})
}

// soFar shows a soak's alarms so far and its verdict while it runs: FAIL
// from its first alarm.
func (s *soak) soFar(st *live.State) {
	s.cmu.Lock()
	alarms, windows := slices.Clone(s.alarms), len(s.windows)
	s.cmu.Unlock()
	st.Alarms = liveAlarms(alarms)
	st.Verdict, st.Reason = "PENDING", fmt.Sprintf("%s judged, none alarmed so far", textfmt.NOf(windows, "window"))
	if len(alarms) > 0 {
		st.Verdict = "FAIL"
		st.Reason = fmt.Sprintf("%s judged; %s so far, the first: %s", textfmt.NOf(windows, "window"), textfmt.NOf(len(alarms), "alarm"), alarms[0].Message)
	}
}
