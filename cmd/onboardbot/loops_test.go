package main

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// A loop runs a round at once, then one per period; a round that panics
// does not end the loop.
func TestLoopRunsRoundsAndSurvivesPanics(t *testing.T) {
	t.Parallel()
	var rounds atomic.Int32
	l := loop{name: "test", every: 5 * time.Millisecond, round: func(context.Context) {
		if rounds.Add(1) == 1 {
			panic("first round")
		}
	}}
	log := logrus.New()
	log.SetOutput(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.run(ctx, logrus.NewEntry(log)) }()
	deadline := time.Now().Add(10 * time.Second)
	for rounds.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if n := rounds.Load(); n < 3 {
		t.Fatalf("%d rounds, want at least 3 after a panicking first one", n)
	}
}
