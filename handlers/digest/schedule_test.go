package digest

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestSchedulerNext(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	wed := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
	cases := []struct {
		name, spec string
		loc        *time.Location
		from, want time.Time
	}{
		{"UTC default", "0 9 * * 1-5", nil, wed, time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)},
		{"DIGEST_TZ", "0 9 * * 1-5", berlin, wed, time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)},
		{"CRON_TZ wins over DIGEST_TZ", "CRON_TZ=America/New_York 0 9 * * *", berlin, wed, time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)},
		{"weekend skipped", "0 9 * * 1-5", nil, time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &Scheduler{Spec: tc.spec, Location: tc.loc}
			got, err := s.Next(tc.from)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Fatalf("next after %s = %s, want %s", tc.from, got.UTC(), tc.want)
			}
		})
	}
	if err := (&Scheduler{Spec: "not a schedule", Run: func(context.Context, time.Time) {}}).Start(context.Background()); err == nil {
		t.Fatal("a bad schedule started")
	}
}

// fakeTimers is a clock whose timers fire when the test says so.
type fakeTimers struct {
	mu    sync.Mutex
	now   time.Time
	fires chan chan time.Time
}

func (f *fakeTimers) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTimers) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	f.mu.Lock()
	f.now = f.now.Add(d) // the wait passes as soon as the test fires it
	f.mu.Unlock()
	f.fires <- ch
	return ch
}

func TestSchedulerRunsEachOccurrenceOnceAndStops(t *testing.T) {
	t.Parallel()
	clk := &fakeTimers{now: time.Date(2026, 11, 25, 8, 59, 30, 0, time.UTC), fires: make(chan chan time.Time)}
	runs := make(chan time.Time, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &Scheduler{Spec: "0 9 * * *", Now: clk.Now, After: clk.After,
		Run: func(_ context.Context, at time.Time) { runs <- at }}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	want := []time.Time{
		time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
	}
	for _, w := range want {
		timer := <-clk.fires
		timer <- clk.Now()
		if got := <-runs; !got.Equal(w) {
			t.Fatalf("ran for %s, want %s", got, w)
		}
	}
	<-clk.fires // the third occurrence's timer is set ...
	cancel()    // ... and the scheduler stops before it fires
	s.Wait()
	select {
	case at := <-runs:
		t.Fatalf("ran for %s after the context ended", at)
	default:
	}
}
