package atrium

import (
	"context"

	"github.com/google/uuid"
)

// ctxKey is unexported so that no other package can collide with these keys.
type ctxKey int

const (
	requestIDKey ctxKey = iota
	tenantKey
	userKey
	operatorKey
	clientKey
)

// Client describes where a request came from, for the audit log.
type Client struct {
	IP        string
	UserAgent string
}

// WithClient returns a context carrying the client's address and user agent.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey, c)
}

// ClientFromContext returns the request's client, or a zero Client.
func ClientFromContext(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey).(Client)
	return c
}

// Tenant is the organization a request is about, resolved from its URL.
type Tenant struct {
	ID   uuid.UUID
	Slug string
	Name string
	// RequireMFA is the organization's demand that every member use
	// two-factor authentication.
	RequireMFA bool
}

// User is the person signed in to the current tenant.
type User struct {
	ID    uuid.UUID
	Email string
	Name  string
	Role  string // role in the current tenant: built-in, or "custom"
	// RoleName is the custom role's name; "" for a built-in role.
	RoleName string
	// Permissions are a custom role's permissions; nil for a built-in
	// role, whose permissions are defined in code (handlers/authz).
	Permissions []string
	// MFAEnabled tells whether they have turned on two-factor
	// authentication.
	MFAEnabled bool
	// MemberID is their membership's id in the current tenant, where they
	// are signed in as a member; the zero UUID otherwise.
	MemberID uuid.UUID
}

// Operator is a member of the company's staff signed in to the console.
type Operator struct {
	ID    uuid.UUID
	Email string
	Name  string
}

// WithRequestID returns a context carrying the request id used in every log line.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFromContext returns the request id, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithTenant returns a context scoped to one tenant. store.InTenant reads the
// tenant from here, so setting it is what opens the tenant's rows.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, tenantKey, t)
}

// TenantFromContext returns the current tenant, or nil when there is none.
func TenantFromContext(ctx context.Context) *Tenant {
	t, _ := ctx.Value(tenantKey).(*Tenant)
	return t
}

// WithUser returns a context carrying the signed-in user.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey, u)
}

// UserFromContext returns the signed-in user, or nil.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userKey).(*User)
	return u
}

// WithOperator returns a context carrying the signed-in operator.
func WithOperator(ctx context.Context, o *Operator) context.Context {
	return context.WithValue(ctx, operatorKey, o)
}

// OperatorFromContext returns the signed-in operator, or nil.
func OperatorFromContext(ctx context.Context) *Operator {
	o, _ := ctx.Value(operatorKey).(*Operator)
	return o
}
