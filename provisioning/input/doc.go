// Package input turns what a partner types — slash command keys, form
// answers, CSV rows — into the normalised specs of package request, or into
// FieldErrors that name every bad key or row and what is expected. It asks
// nobody: checks that need Webex are the worker's prechecks.
package input
