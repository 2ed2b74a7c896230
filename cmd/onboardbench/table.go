package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// row is one line of the result table. Load rows fill the latency columns;
// figure holds what is not a rate: times, counts, memory, ratios.
type row struct {
	scenario string
	clients  int
	res      *result
	floor    float64 // the floor's rps at the same client count; 0: no ratio
	durable  float64 // the durable floor's rps at the same client count; 0: no ratio
	figure   string  // for rows without a load run
	target   string
	verdict  verdict
}

type verdict int

const (
	unjudged verdict = iota
	met
	missed
)

func (v verdict) String() string {
	switch v {
	case met:
		return "met"
	case missed:
		return "MISSED"
	}
	return ""
}

func judge(ok bool) verdict {
	if ok {
		return met
	}
	return missed
}

func (r row) ratio() float64 {
	if r.res == nil || r.floor <= 0 {
		return 0
	}
	return r.res.rps() / r.floor
}

// durableRatio is rps ÷ the durable floor's.
func (r row) durableRatio() float64 {
	if r.res == nil || r.durable <= 0 {
		return 0
	}
	return r.res.rps() / r.durable
}

// writeTable prints rows as one Markdown table, so that a run's output can
// go into docs/performance.md as it is.
func writeTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| scenario | clients | rps | × floor | × durable floor | p50 | p90 | p99 | max | figure | target | verdict |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
	for _, r := range rows {
		cells := []string{r.scenario, "", "", "", "", "", "", "", "", r.figure, r.target, r.verdict.String()}
		if r.clients > 0 {
			cells[1] = fmt.Sprint(r.clients)
		}
		if r.res != nil {
			cells[2] = fmt.Sprintf("%.0f", r.res.rps())
			if r.floor > 0 {
				cells[3] = fmt.Sprintf("%.2f", r.ratio())
			}
			if r.durable > 0 {
				cells[4] = fmt.Sprintf("%.2f", r.durableRatio())
			}
			for i, q := range []float64{0.5, 0.9, 0.99, 1} {
				cells[5+i] = ms(r.res.pct(q))
			}
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
}

// ms prints a latency in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f < 10:
		return fmt.Sprintf("%.2f ms", f)
	case f < 100:
		return fmt.Sprintf("%.1f ms", f)
	}
	return fmt.Sprintf("%.0f ms", f)
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
