package request

// Who acts on a request besides people (whose Slack user ids are actors
// too): what AuditEntry.Actor and Transition.Actor hold.
const (
	ActorWorker = "worker" // commits to Webex and follows what Webex does
	ActorBot    = "bot"    // posts summaries, runs prechecks, tidies up
	ActorAuto   = "auto"   // approves what AUTO_APPROVE allows
)

// SystemActor reports whether actor is the bot's own rather than a person.
func SystemActor(actor string) bool {
	switch actor {
	case ActorWorker, ActorBot, ActorAuto:
		return true
	}
	return false
}

// What happened to a request: AuditEntry.Action. Lists, digests and tests
// match some of them (a rejected request "edited" into a new one is not
// chased any more), so they are written from these names only.
const (
	ActionCreated         = "created"
	ActionSummaryPosted   = "summary posted"
	ActionPrecheck        = "precheck"
	ActionPrecheckAgain   = "precheck again"
	ActionApproved        = "approved"
	ActionNotAutoApproved = "not auto-approved"
	ActionRejected        = "rejected"
	ActionCancelled       = "cancelled"
	ActionEdited          = "edited"
	ActionResubmitted     = "resubmitted"
	ActionRetry           = "retry"
	ActionReassigned      = "reassigned"
	ActionNoted           = "noted"
	ActionCommitting      = "committing"
	ActionCreating        = "creating" // at Webex; "created" once Webex has it
	ActionUpdating        = "updating"
	ActionProgress        = "progress"
	ActionWaiting         = "waiting"
	ActionResolved        = "resolved"
	ActionRequeued        = "requeued"
	ActionActivated       = "activated"
	ActionDone            = "done"
	ActionFailed          = "failed"
	ActionDeleted         = "deleted"
)
