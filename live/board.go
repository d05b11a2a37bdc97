package live

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/canary-gate/canary/internal/redact"
)

// RateWindow is the span the rates and recent shares are read over:
// short enough that a route change shows within seconds, long enough
// that 20 requests a second give a steady number.
const RateWindow = 5 * time.Second

// MaxHistory bounds the points kept: an eight-hour soak keeps about one
// point a minute, a two-minute gate one a second. Past it, every other
// point is dropped, so the chart always spans the whole run.
const MaxHistory = 720

// Board holds a running command's State. The command calls Update about
// once a second; watchers read the encoded bytes of the newest state,
// which are made once per update whatever the number of watchers.
type Board struct {
	mu      sync.Mutex
	st      State
	counts  []counted // the last RateWindow of counts, oldest first
	every   time.Duration
	lastPt  time.Time
	encoded []byte
	changed chan struct{} // closed and replaced on every update
	now     func() time.Time
}

// counted is the per-version counts of both witnesses at one moment.
type counted struct {
	at           time.Time
	client, mesh map[string]int
}

// NewBoard returns a board for command (verify, soak, run).
func NewBoard(command string) *Board {
	b := &Board{every: time.Second, changed: make(chan struct{}), now: time.Now}
	now := b.now()
	b.st = State{Command: command, Started: now, Updated: now, Verdict: "PENDING", Unit: "page",
		Outcomes: map[string]int{}, History: []Point{}, Failed: []Failure{}, Versions: []Version{}}
	b.encode()
	return b
}

// Update applies f to the state, then derives the rates, recent shares
// and history from the counts f left, and publishes the result. f must
// not keep the state.
func (b *Board) Update(f func(*State)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(&b.st)
	now := b.now()
	b.st.Updated = now
	b.derive(now)
	b.encode()
	close(b.changed)
	b.changed = make(chan struct{})
}

// Restart is Update for a new gate on the same page (the next stage of a
// run): the counts start again from zero, so the rates forget the last
// gate's, while the history goes on.
func (b *Board) Restart(f func(*State)) {
	b.Update(func(st *State) {
		b.counts = b.counts[:0]
		st.Versions, st.Failed, st.sent = st.Versions[:0], st.Failed[:0], nil
		clear(st.Outcomes)
		st.Mesh = nil
		st.Verdict, st.Reason = "PENDING", ""
		f(st)
	})
}

// derive fills each version's rate and recent share from the counts of
// RateWindow ago, and adds a history point at most once per b.every.
func (b *Board) derive(now time.Time) {
	c := counted{at: now, client: map[string]int{}, mesh: map[string]int{}}
	for _, v := range b.st.Versions {
		c.client[v.Name] = v.Client.Count
		if n, ok := b.st.sent[v.Name]; ok {
			c.client[v.Name] = n
		}
		if v.Mesh != nil {
			c.mesh[v.Name] = v.Mesh.Count
		}
	}
	b.counts = append(b.counts, c)
	meshWindow := RateWindow
	if m := b.st.Mesh; m != nil {
		meshWindow = max(meshWindow, time.Duration(m.Window*float64(time.Second)))
	}
	// Keep one sample at or before the longest window's start.
	for len(b.counts) > 2 && !b.counts[1].at.After(now.Add(-max(RateWindow, meshWindow))) {
		b.counts = b.counts[1:]
	}
	from, meshFrom := b.since(now, RateWindow), b.since(now, meshWindow)
	dt, meshDt := now.Sub(from.at).Seconds(), now.Sub(meshFrom.at).Seconds()
	clientAll, meshAll := 0.0, 0.0
	for i := range b.st.Versions {
		v := &b.st.Versions[i]
		v.Client.Rate = rate(c.client[v.Name]-from.client[v.Name], dt)
		clientAll += v.Client.Rate
		if v.Mesh != nil {
			v.Mesh.Rate = rate(v.Mesh.Count-meshFrom.mesh[v.Name], meshDt)
			meshAll += v.Mesh.Rate
		}
	}
	p := Point{At: now, Share: map[string]float64{}, Recent: map[string]float64{}}
	// The stage in progress or, between stages, the one that just ended:
	// its final counts belong to it.
	for _, s := range b.st.Stages {
		if s.Current {
			p.Stage = s.Name
			break
		}
		if s.Verdict != "" {
			p.Stage = s.Name
		}
	}
	for i := range b.st.Versions {
		v := &b.st.Versions[i]
		v.Client.RecentShare = pct(v.Client.Rate, clientAll)
		p.Share[v.Name], p.Recent[v.Name] = v.Client.Share, v.Client.RecentShare
		if v.Client.Low > 0 || v.Client.High < 100 {
			if p.Low == nil {
				p.Low, p.High = map[string]float64{}, map[string]float64{}
			}
			p.Low[v.Name], p.High[v.Name] = v.Client.Low, v.Client.High
		}
		if v.Mesh != nil {
			v.Mesh.RecentShare = pct(v.Mesh.Rate, meshAll)
			if p.Mesh == nil {
				p.Mesh = map[string]float64{}
			}
			p.Mesh[v.Name] = v.Mesh.RecentShare
		}
	}
	counted := 0
	for _, v := range b.st.Versions {
		counted += v.Client.Count
	}
	// A gate that has counted nothing yet (settling, or the next stage of
	// a run just begun) has no split to draw.
	if counted == 0 || now.Sub(b.lastPt) < b.every && !b.st.Done {
		return
	}
	b.lastPt = now
	b.st.History = append(b.st.History, p)
	if len(b.st.History) > MaxHistory {
		thin := b.st.History[:0]
		for i, q := range b.st.History {
			if i%2 == 1 || i == len(b.st.History)-1 {
				thin = append(thin, q)
			}
		}
		b.st.History = thin
		b.every *= 2
	}
}

// since returns the newest counts taken at or before now − window, or the
// oldest kept.
func (b *Board) since(now time.Time, window time.Duration) counted {
	from := b.counts[0]
	for _, c := range b.counts[1:] {
		if c.at.After(now.Add(-window)) {
			break
		}
		from = c
	}
	return from
}

func rate(n int, seconds float64) float64 {
	if seconds <= 0 || n <= 0 {
		return 0
	}
	return float64(n) / seconds
}

func pct(part, whole float64) float64 {
	if whole <= 0 {
		return 0
	}
	return 100 * part / whole
}

// encode makes the JSON every watcher reads, with every registered secret
// masked (a reason may quote a server's answer).
func (b *Board) encode() {
	data, err := json.Marshal(&b.st)
	if err != nil { // a State always encodes; keep the last good bytes
		return
	}
	b.encoded = []byte(redact.String(string(data)))
}

// snapshot returns the newest encoded state and a channel closed at the
// next update.
func (b *Board) snapshot() ([]byte, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.encoded, b.changed
}

// State returns a copy of the current state, for tests and callers that
// print it.
func (b *Board) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	var st State
	data, _ := json.Marshal(&b.st)
	_ = json.Unmarshal(data, &st)
	return st
}
