// Package request is onboardbot's model: a request (what a partner asks for,
// its kind and lifecycle state, its approval, its outcome), the normalised
// spec of each kind (customer, template, users, location, PSTN, numbers,
// corrections), one compare-and-set step of its state machine
// (Transition), a job of the job stream, and the catalogs a spec refers to
// (countries, languages, packages). It imports nothing of the bot: the
// store, the parsers, the worker and the handlers all speak it.
package request
