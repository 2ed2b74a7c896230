package worker

// MakeSteps lets the tests run a plan's step making twice, as a job
// delivered again after a crash does.
var MakeSteps = (*Worker).makeSteps
