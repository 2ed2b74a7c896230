package config

import (
	"fmt"
	"strings"
)

// VarError is one invalid environment variable: its name and what is wrong or expected.
// Problem never contains a secret's value.
type VarError struct {
	Var     string
	Problem string
}

func (e *VarError) Error() string { return e.Var + ": " + e.Problem }

// ModeError is a partial or ambiguous Slack configuration: the run mode
// cannot be chosen. The process exits 2 on it.
type ModeError struct {
	Msg string
}

func (e *ModeError) Error() string { return e.Msg }

// Errors is every problem Load found, so an operator fixes them in one go.
// Its text is one problem, or "N problems:" and one indented line each;
// the caller adds its own prefix ("onboardbot: configuration: ...").
// errors.As(err, new(*ModeError)) finds the exit-2 case inside it.
type Errors struct {
	Problems []error
}

func (e *Errors) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is/As see each problem.
func (e *Errors) Unwrap() []error { return e.Problems }

func (e *Errors) add(name, format string, args ...any) {
	e.Problems = append(e.Problems, &VarError{Var: name, Problem: fmt.Sprintf(format, args...)})
}

func (e *Errors) mode(format string, args ...any) {
	e.Problems = append(e.Problems, &ModeError{Msg: fmt.Sprintf(format, args...)})
}
