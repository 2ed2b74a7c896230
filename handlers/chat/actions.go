package chat

// The action ids of buttons that several views offer (summaries, App Home,
// digests, lists); each view's own buttons keep theirs next to it.
const (
	ActionOpenRequest   = "open_request"
	ActionRetryRequest  = "retry_request"
	ActionResendConsent = "resend_consent"
	ActionEditResubmit  = "edit_resubmit"
	ActionResumeDraft   = "resume_draft"
)
