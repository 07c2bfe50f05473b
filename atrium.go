// Package atrium holds the vocabulary every other package shares: the
// application error type with its codes, and the request identity carried in
// context.Context. It has no dependencies on the rest of the module, so store,
// handlers and cmd can all import it without cycles (the root-package pattern
// of Ben Johnson's WTF Dial).
package atrium
