package store_test

import (
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/onboardbot/onboardbot/store"
)

// The Store serves the worker's ports. Checked here, in a test, so that
// the store itself imports only the request model (not the worker and the
// Webex client behind it).
var (
	_ worker.RequestStore    = (*store.Store)(nil)
	_ worker.JobQueue        = (*store.Store)(nil)
	_ worker.WatchList       = (*store.Store)(nil)
	_ worker.RowStore        = (*store.Store)(nil)
	_ worker.DependentFinder = (*store.Store)(nil)
)
