package components

import (
	"context"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/views"
)

// TestFieldAttributes renders an input in its three states: plain, with a
// hint, and with an error that replaces the hint as its description.
func TestFieldAttributes(t *testing.T) {
	props := FieldProps{Name: "email", Label: "Email", Type: "email", Required: true, MaxLength: 254}
	hinted := props
	hinted.Hint = "Where we send sign-in links."
	failed := views.Form{Values: map[string]string{"email": "x"}, Errors: map[string]string{"email": "Enter an email address."}}
	for _, tc := range []struct {
		name string
		p    FieldProps
		f    views.Form
		want string
	}{
		{"Plain", props, views.Form{}, `<input id="f-email" name="email" type="email" value="" required maxlength="254">`},
		{"Hint", hinted, views.Form{}, `<input id="f-email" name="email" type="email" value="" required maxlength="254" aria-describedby="f-email-hint">`},
		{"Error", hinted, failed, `<input id="f-email" name="email" type="email" value="x" required maxlength="254" aria-invalid="true" aria-describedby="f-email-error">`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := Field(tc.p, tc.f).Render(context.Background(), &b); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tc.want) {
				t.Errorf("rendered\n%s\nwant the input\n%s", b.String(), tc.want)
			}
		})
	}
}
