package members

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/authz"
	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	memberviews "github.com/atrium-dev/atrium/views/members"
)

// ShowRoles handles "GET /o/:org/roles": the built-in roles, which cannot be
// edited, and the organization's custom roles with a form to add one.
func (h *Handler) ShowRoles(c echo.Context) error {
	return h.renderRoles(c, http.StatusOK, views.Form{})
}

// rolesReads are the roles page's: the organization's custom roles.
var rolesReads = mw.Reads[[]store.Role](func(_ echo.Context, b *store.Batch, dst *[]store.Role) { b.FindRoles(dst) })

// LoadRoles queues the roles page's reads into the request's first round
// trip (the route's mw.Loader).
func (h *Handler) LoadRoles(c echo.Context, b *store.Batch) { rolesReads.Load(c, b) }

func (h *Handler) renderRoles(c echo.Context, status int, f views.Form) error {
	custom, err := rolesReads.Read(c, h.db.ReadTenant)
	if err != nil {
		return err
	}
	r := memberviews.Roles{Form: f, Custom: *custom}
	for _, b := range authz.Builtin {
		r.Builtin = append(r.Builtin, memberviews.BuiltinRole{Name: b.Name, Description: b.Description, Permissions: names(b.Permissions)})
	}
	r.Grantable = names(authz.Grantable())
	p := web.NewPage(c, "Roles")
	p.Nav = "roles"
	return web.Render(c, status, memberviews.RolesPage(p, r))
}

// names turns permissions into their strings for views and storage.
func names(ps []authz.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// CreateRole handles "POST /o/:org/roles": a name and permissions chosen
// from those a custom role may hold. dashboard.view is always included: it
// is the organization's home page.
func (h *Handler) CreateRole(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.Form{Values: web.FormValues(c, "name"), Errors: map[string]string{}}
	if m := auth.ValidateName(f.Values["name"], "a name for the role"); m != "" {
		f.Errors["name"] = m
	} else if len([]rune(f.Values["name"])) > 40 {
		f.Errors["name"] = "Use at most 40 characters."
	} else if authz.IsBuiltin(f.Values["name"]) || f.Values["name"] == "custom" {
		f.Errors["name"] = "That name belongs to a built-in role."
	}
	form, _ := c.FormParams()
	chosen := form["permissions"]
	f.Values["permissions"] = strings.Join(chosen, ",") // kept if the form comes back
	grantable := names(authz.Grantable())
	perms := []string{string(authz.DashboardView)}
	for _, p := range chosen {
		if !slices.Contains(grantable, p) {
			f.Errors["permissions"] = "Choose permissions from the list."
			break
		}
		if !slices.Contains(perms, p) {
			perms = append(perms, p)
		}
	}
	if len(f.Errors) > 0 {
		f.Message = "The role was not created. Please correct the highlighted fields."
		return h.renderRoles(c, http.StatusUnprocessableEntity, f)
	}
	var role *store.Role
	err := h.db.InTenant(ctx, func(tx *store.Tx) error {
		var err error
		if role, err = tx.CreateRole(ctx, f.Values["name"], perms); err != nil {
			return err
		}
		return tx.RecordAudit(ctx, "role.created", "role", role.ID.String(), role.Name,
			map[string]string{"permissions": strings.Join(perms, ", ")})
	})
	if atrium.ErrorCode(err) == atrium.ECONFLICT || atrium.ErrorCode(err) == atrium.EINVALID {
		f.Errors["name"] = atrium.ErrorMessage(err)
		f.Message = "The role was not created."
		return h.renderRoles(c, http.StatusConflict, f)
	}
	if err != nil {
		return err
	}
	web.Flash(c, views.FlashSuccess, "Role “"+role.Name+"” created. Assign it on the members page.")
	return web.Redirect(c, "/o/"+atrium.TenantFromContext(ctx).Slug+"/roles")
}

// DeleteRole handles "POST /o/:org/roles/:id/delete"; a role someone still
// holds is refused with that reason.
func (h *Handler) DeleteRole(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return atrium.Errorf(atrium.ENOTFOUND, "We couldn't find that role.")
	}
	err = h.db.InTenant(ctx, func(tx *store.Tx) error {
		r, err := tx.FindRoleByID(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteRole(ctx, id); err != nil {
			return err
		}
		web.Flash(c, views.FlashSuccess, "Role “"+r.Name+"” deleted.")
		return tx.RecordAudit(ctx, "role.deleted", "role", id.String(), r.Name, nil)
	})
	switch atrium.ErrorCode(err) {
	case "":
	case atrium.ECONFLICT:
		web.Flash(c, views.FlashError, atrium.ErrorMessage(err))
	default:
		return err
	}
	return web.Redirect(c, "/o/"+atrium.TenantFromContext(ctx).Slug+"/roles")
}
