package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning"
)

// numbers lists a location's available numbers, or requests a block:
// `numbers CUSTOMER [location=NAME]` · `numbers CUSTOMER add=FROM-TO [location=NAME] [main=+…]`.
func (h *Handler) numbers(ctx context.Context, u caller, c Command) *Reply {
	if rep, ok := h.setupForm(ctx, u, provisioning.KindNumbers, c, "add"); ok && len(c.Words) < 2 {
		return rep // only a bare `numbers`: with a CUSTOMER and no add= it lists numbers
	}
	if len(c.Words) != 2 {
		return refusal("⛔ usage: numbers CUSTOMER [location=NAME] · numbers CUSTOMER add=+4930555001-+4930555099 [location=NAME] [main=+…]")
	}
	for k := range c.Args {
		if k != "add" && k != "location" && k != "main" {
			return refusal(fmt.Sprintf("⛔ nothing was submitted:\n• %s: unknown key (expected add, location, main)", esc(k)))
		}
	}
	location := strings.TrimSpace(c.Args["location"])
	if location == "" {
		location = provisioning.DefaultLocationName
	}
	if _, adding := c.Args["add"]; !adding {
		if _, ok := c.Args["main"]; ok {
			return refusal("⛔ nothing was submitted:\n• main: only with add=…")
		}
		ref, rep := h.resolveCustomer(ctx, u, c.Words[1])
		if rep != nil {
			return rep
		}
		h.background(ctx, "list numbers", func(ctx context.Context) error {
			return h.msg.Ephemeral(ctx, u.channel, u.id, Message{Text: h.listNumbers(ctx, *ref, location)})
		})
		return &Reply{Text: esc(fmt.Sprintf("🔎 looking up the available numbers of %s at %s…", ref.ExternalID, location))}
	}
	ref, rep := h.setupTarget(ctx, u, c, "numbers CUSTOMER add=FROM-TO [location=NAME] [main=+…]")
	if rep != nil {
		return rep
	}
	var errs provisioning.FieldErrors
	block, err := provisioning.ParseNumberBlock("add", c.Args["add"], ref.Country)
	errs.Append("add", err)
	spec := &provisioning.NumbersSpec{Customer: *ref, Location: location, Numbers: block}
	if v := strings.TrimSpace(c.Args["main"]); v != "" {
		main, err := provisioning.NormalizePhone("main", v, ref.Country)
		errs.Append("main", err)
		spec.Main = main
	}
	if len(errs) > 0 {
		return refusal(inputProblems(errs, nil))
	}
	subject := fmt.Sprintf("numbers %s %s", ref.ExternalID, location)
	check := func(*provisioning.Request) precheckFunc { return h.numbersCheck(spec) }
	return h.submitSetup(ctx, u, provisioning.KindNumbers, subject, spec, check)
}

func (h *Handler) listNumbers(ctx context.Context, ref provisioning.CustomerRef, location string) string {
	if ref.OrgID == "" {
		return esc(fmt.Sprintf("⛔ %s is not provisioned yet: it has no numbers", ref.ExternalID))
	}
	nums, err := h.setup.AvailableNumbers(ctx, ref, location)
	if err != nil {
		msg, _ := provisioning.DescribeFailure(err)
		return esc(fmt.Sprintf("⛔ could not list the numbers of %s at %s: %s", ref.ExternalID, location, msg))
	}
	if len(nums) == 0 {
		return fmt.Sprintf("%s at %s has no available numbers. Add a block with `numbers %s add=FROM-TO location=%s`.", esc(ref.ExternalID), esc(location), esc(ref.ExternalID), esc(location))
	}
	shown := nums
	more := ""
	if len(shown) > 50 {
		shown, more = shown[:50], fmt.Sprintf("\n… and %d more", len(nums)-50)
	}
	return fmt.Sprintf("%s available at %s %s:\n%s%s", provisioning.Count(len(nums), "number"), esc(ref.ExternalID), esc(location), esc(strings.Join(shown, ", ")), more)
}

// numbersCheck asks Webex whether spec's numbers may be added at its
// location (the location's PSTN type).
func (h *Handler) numbersCheck(spec *provisioning.NumbersSpec) precheckFunc {
	ref, location, n := spec.Customer, spec.Location, len(spec.Numbers)
	return func(ctx context.Context) (provisioning.Precheck, error) {
		if ref.OrgID == "" {
			return provisioning.Precheck{Status: provisioning.PrecheckUnavailable,
				Message: "the customer is not provisioned yet: the location's PSTN type is checked at commit"}, nil
		}
		if err := h.setup.CheckNumbersAllowed(ctx, ref, location); err != nil {
			var we *provisioning.WebexError
			if errors.As(err, &we) && we.Retryable {
				return provisioning.Precheck{}, err
			}
			return provisioning.Precheck{Status: provisioning.PrecheckFailed, Message: err.Error()}, nil
		}
		return provisioning.Precheck{Status: provisioning.PrecheckOK, Message: fmt.Sprintf("%s may be added at %s", provisioning.Count(n, "number"), location)}, nil
	}
}
