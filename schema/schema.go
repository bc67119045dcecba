// Package schema declares iamsql's resources as data: their columns, the SQL
// methods that map onto IAM operations, the parameters each method requires,
// which columns are sensitive and which IAM permissions a method needs.
//
// Everything else — the go-mysql-server tables and procedures, parameter
// checks, docs/<resource>.md, shell help and completion — is derived from the
// values here. This package imports neither go-mysql-server nor the AWS SDK.
package schema

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Type is a column's SQL type, as MySQL names it.
type Type string

// The column types resources use.
const (
	Varchar  Type = "VARCHAR"
	Datetime Type = "DATETIME"
	BigInt   Type = "BIGINT"
	Boolean  Type = "BOOLEAN"
)

// Column is one field of a resource.
type Column struct {
	Name string
	Type Type
	// Size is the VARCHAR length.
	Size int
	Doc  string
	// Param marks a column that is also an API parameter (region, UserName,
	// AccessKeyId): `=` and `IN` on it in WHERE or a join are pushed down
	// to IAM, as an optimization that returns exactly the rows of the
	// full scan the condition selects.
	Param bool
	// From is where the value comes from: the name of a field of the item
	// IAM lists (the SDK's struct, e.g. AccessKeyMetadata.CreateDate), or
	// for a Hydrate column a field path of that call's answer
	// (AccessKeyLastUsed.LastUsedDate). Empty means the column's Name.
	From string
	// Echo marks a column whose value is the parameter the request was
	// made with (region), not a field of IAM's answer.
	Echo bool
	// Sensitive columns are never logged, never audited and never stored.
	Sensitive bool
	// Hydrate names the IAM call that fetches the column, one per row
	// (GetAccessKeyLastUsed). It is made only when the query needs the
	// column: when the planner projects it, or, where the planner hands
	// the table no projection, when the statement refers to it at all.
	Hydrate string
	// Enum lists the allowed values, when the column is an enumeration.
	Enum []string
	// Key marks the columns that identify a row (the table's primary key):
	// an access key in a region, a user in a region.
	Key bool
	// Default is the value an INSERT that leaves the column out (or gives
	// DEFAULT) writes: for access_keys.UserName, "(caller)" — the key is
	// created for the caller — which no IAM user name can be.
	Default string
}

// Verb is how a method is reached from SQL.
type Verb string

// SQL verbs.
const (
	Select Verb = "SELECT"
	Insert Verb = "INSERT"
	Delete Verb = "DELETE"
	Update Verb = "UPDATE"
	Exec   Verb = "EXEC"
)

// Method maps a SQL verb of a resource onto one IAM operation.
type Method struct {
	// Name is the StackQL method name (access_keys_List).
	Name string
	Verb Verb
	// Operation is the IAM API action (ListAccessKeys).
	Operation string
	// Procedure is the name of the stored procedure that calls this method
	// (CALL update_access_key(...)); empty when there is none.
	Procedure string
	// Required and Optional are parameter names, in the order a procedure
	// takes them positionally: required first, then optional.
	Required []string
	Optional []string
	// OneOf lists parameters at least one of which an UPDATE or DELETE must
	// constrain in its WHERE clause (MySQL's safe-updates convention: a
	// statement that could change every key of the account is refused
	// unless the session sets sql_safe_updates = 0).
	OneOf []string
	// Mutating methods change IAM state; read-only servers refuse them.
	Mutating bool
	// Returns names the columns a procedure's result row carries.
	Returns []string
	// Permissions are the IAM actions a caller needs.
	Permissions []string
	Doc         string
	// Arguments documents the parameters of a procedure that are not
	// columns of its resource (rotate_access_key's Apply).
	Arguments []Column
	// Defaults are the values parameters take when written DEFAULT in a
	// CALL or left out of an EXEC (rotate_access_key's UserName is the
	// caller, CallerDefault); an explicit NULL or '' stays what it is.
	// Other parameters written DEFAULT are NULL.
	Defaults map[string]string
}

// Params returns the method's parameters in positional order.
func (m Method) Params() []string {
	return append(append([]string(nil), m.Required...), m.Optional...)
}

// Requirement says in words which parameters the method needs: "requires
// region; and AccessKeyId or UserName (safe updates); optional UserName".
func (m Method) Requirement() string {
	s := "requires none"
	if len(m.Required) > 0 {
		s = "requires " + strings.Join(m.Required, ", ")
	}
	if len(m.OneOf) > 0 {
		s += "; and " + strings.Join(m.OneOf, " or ") + " (safe updates)"
	}
	if len(m.Optional) > 0 {
		s += "; optional " + strings.Join(m.Optional, ", ")
	}
	return s
}

// Signature is the procedure's call shape, e.g.
// "update_access_key(AccessKeyId, Status, region[, UserName[, account_id]])".
func (m Method) Signature() string {
	s := m.Procedure + "(" + strings.Join(m.Required, ", ")
	for i, o := range m.Optional {
		if i == 0 && len(m.Required) == 0 {
			s += "[" + o
		} else {
			s += "[, " + o
		}
	}
	return s + strings.Repeat("]", len(m.Optional)) + ")"
}

// Example is a statement shown in docs and help; a test runs every one.
type Example struct {
	Title string
	SQL   string
}

// Listing says how a full scan enumerates a resource's rows. A table is
// everything it names in the whole account; a lookup on a Param column is
// an optimization that must return exactly the subset of these rows.
type Listing struct {
	// Operation is the IAM call whose items are the rows (ListAccessKeys).
	Operation string
	// Parent, when set, names the resource the listing is made for: a full
	// scan lists the parent and calls Operation once per parent row with
	// the parent's ParentKey column as the ParentKey parameter (every
	// user's keys). A join on ParentKey fetches ahead for the parent rows.
	Parent, ParentKey string
	// RootCaller adds to a full scan what Operation lists without the
	// parent key when the caller is the account's root user: the root
	// user's own access keys, which belong to no IAM user.
	RootCaller bool
	// Organization marks a listing of AWS Organizations (the accounts):
	// it is made with the management account's own credentials, once,
	// not per account, and needs no region.
	Organization bool
}

// Resource is one virtual table.
type Resource struct {
	Name string
	// StackQLIDs are the fully qualified names StackQL users write
	// (aws.iam_api.access_keys); they resolve to this table.
	StackQLIDs []string
	Doc        string
	Columns    []Column
	Methods    []Method
	// List is how the table's rows are fetched from IAM; nil for tables
	// answered locally (methods, created_access_keys).
	List *Listing
	// SessionScoped tables hold per-connection data in memory only.
	SessionScoped bool
	Examples      []Example
}

// Column returns the named column (case-insensitive).
func (r Resource) Column(name string) (Column, bool) {
	for _, c := range r.Columns {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Column{}, false
}

// Method returns the resource's method for a verb.
func (r Resource) Method(v Verb) (Method, bool) {
	for _, m := range r.Methods {
		if m.Verb == v {
			return m, true
		}
	}
	return Method{}, false
}

// ParamColumns lists the columns that are API parameters.
func (r Resource) ParamColumns() []string {
	var out []string
	for _, c := range r.Columns {
		if c.Param {
			out = append(out, c.Name)
		}
	}
	return out
}

// LookupColumns are the columns of a resource's lookup index: region
// first (every statement must pin it), then the other parameters.
func (r Resource) LookupColumns() []string {
	var out []string
	for _, c := range r.Columns {
		if c.Param && c.Echo {
			out = append(out, c.Name)
		}
	}
	for _, c := range r.Columns {
		if c.Param && !c.Echo {
			out = append(out, c.Name)
		}
	}
	return out
}

// Field is where a column's value is read from (see Column.From).
func (c Column) Field() string {
	if c.From != "" {
		return c.From
	}
	return c.Name
}

// MissingParam is the error for a method called without a required
// parameter. Its text tells the user how to supply it.
type MissingParam struct {
	Resource, Param string
	Method          Method
}

func (e *MissingParam) Error() string {
	if e.Param == "" && len(e.Method.OneOf) > 0 {
		return fmt.Sprintf("%s: %s without %s in WHERE would change every key of the account and is refused "+
			"(safe updates; add WHERE %s = '…', or SET sql_safe_updates = 0 to change all of them)",
			e.Resource, e.Method.Verb, strings.Join(e.Method.OneOf, " or "), e.Method.OneOf[0])
	}
	switch e.Method.Verb {
	case Select, Delete, Update:
		return fmt.Sprintf("%s: %s requires %s (add WHERE %s = '…'); method %s needs %s",
			e.Resource, e.Method.Verb, e.Param, e.Param, e.Method.Name, strings.Join(e.Method.Required, ", "))
	case Insert:
		return fmt.Sprintf("%s: INSERT requires %s (a non-empty %s value in every row); method %s needs %s",
			e.Resource, e.Param, e.Param, e.Method.Name, strings.Join(e.Method.Required, ", "))
	default:
		return fmt.Sprintf("%s: %s requires %s; call it as %s",
			e.Resource, e.Method.Procedure, e.Param, e.Method.Signature())
	}
}

// InvalidParam is the error for a parameter value IAM would reject.
type InvalidParam struct {
	Param, Value, Reason string
}

func (e *InvalidParam) Error() string {
	// A hostile value (10 MB, control bytes) is shown quoted and cut short.
	q := strconv.Quote(e.Value)
	if len(q) > 80 {
		q = q[:80] + "…\""
	}
	return fmt.Sprintf("invalid %s %s: %s", e.Param, q, e.Reason)
}

var (
	accessKeyIDPattern = regexp.MustCompile(`^[\w]+$`)
	userNamePattern    = regexp.MustCompile(`^[\w+=,.@-]+$`)
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
)

// Validate checks a parameter value the way IAM documents it, so an invalid
// value never reaches an API call.
func Validate(param, value string) error {
	bad := func(reason string) error { return &InvalidParam{Param: param, Value: value, Reason: reason} }
	switch param {
	case "AccessKeyId":
		if n := len(value); n < 16 || n > 128 {
			return bad("must be 16-128 characters")
		}
		if !accessKeyIDPattern.MatchString(value) {
			return bad(`must match [\w]+ (letters, digits, underscore)`)
		}
	case "UserName":
		if n := len(value); n < 1 || n > 64 {
			return bad("must be 1-64 characters")
		}
		if !userNamePattern.MatchString(value) {
			return bad(`must match [\w+=,.@-]+`)
		}
	case "Status":
		if value != "Active" && value != "Inactive" {
			return bad("must be Active or Inactive")
		}
	case AccountIDColumn:
		if !accountIDPattern.MatchString(value) {
			return bad("must be a 12-digit AWS account id")
		}
	case "region":
		if _, ok := Partition(value); !ok {
			return bad("not a known AWS region (e.g. us-east-1, eu-west-1, cn-north-1, us-gov-west-1)")
		}
	}
	return nil
}

// Regions lists the AWS region names iamsql knows, by partition.
var Regions = map[string][]string{
	"aws": {
		"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
		"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
		"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
		"eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
		"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2", "aws-global",
	},
	"aws-cn":     {"cn-north-1", "cn-northwest-1", "aws-cn-global"},
	"aws-us-gov": {"us-gov-east-1", "us-gov-west-1", "aws-us-gov-global"},
}

// SigningRegion is the region IAM requests of a partition are signed for.
var SigningRegion = map[string]string{
	"aws":        "us-east-1",
	"aws-cn":     "cn-north-1",
	"aws-us-gov": "us-gov-west-1",
}

var regionPartition = func() map[string]string {
	m := map[string]string{}
	for p, rs := range Regions {
		for _, r := range rs {
			m[r] = p
		}
	}
	return m
}()

// Partition returns the AWS partition a region belongs to.
func Partition(region string) (string, bool) {
	p, ok := regionPartition[region]
	return p, ok
}

// RegionNames returns every known region, sorted.
func RegionNames() []string {
	out := make([]string, 0, len(regionPartition))
	for r := range regionPartition {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Lookup finds a resource by table name or StackQL id (case-insensitive).
func Lookup(name string) (Resource, bool) {
	for _, r := range Resources {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
		for _, id := range r.StackQLIDs {
			if strings.EqualFold(id, name) {
				return r, true
			}
		}
	}
	return Resource{}, false
}

// ProcedureRef is a method reachable as a stored procedure.
type ProcedureRef struct {
	Resource Resource
	Method   Method
}

// Procedures lists every method reachable as a stored procedure.
func Procedures() []ProcedureRef {
	var out []ProcedureRef
	for _, r := range Resources {
		for _, m := range r.Methods {
			if m.Procedure != "" {
				out = append(out, ProcedureRef{r, m})
			}
		}
	}
	return out
}

// ProcedureNames lists the stored procedures' names, in Procedures' order.
func ProcedureNames() []string {
	var out []string
	for _, ref := range Procedures() {
		out = append(out, ref.Method.Procedure)
	}
	return out
}

// LookupMethod finds a method by its StackQL name (access_keys_Update) or
// procedure name (update_access_key), case-insensitively.
func LookupMethod(name string) (ProcedureRef, bool) {
	for _, r := range Resources {
		for _, m := range r.Methods {
			if strings.EqualFold(m.Name, name) || (m.Procedure != "" && strings.EqualFold(m.Procedure, name)) {
				return ProcedureRef{r, m}, true
			}
		}
	}
	return ProcedureRef{}, false
}

// Service is a StackQL service iamsql's resources belong to: the
// provider.service prefix of their StackQLIDs (aws.iam_api). SHOW
// SERVICES and SHOW RESOURCES IN … answer from these.
type Service struct {
	ID    string
	Title string
}

// Services are the StackQL services of Resources' StackQLIDs.
var Services = []Service{
	{ID: "aws.iam_api", Title: "AWS Identity and Access Management (IAM)"},
	{ID: "aws.iam", Title: "AWS Identity and Access Management (IAM), StackQL's older service name"},
	{ID: "aws.organizations", Title: "AWS Organizations"},
}

// Name is the service's name within its provider (iam_api).
func (s Service) Name() string { return s.ID[strings.LastIndexByte(s.ID, '.')+1:] }

// ServiceOf is the service a StackQL resource id belongs to.
func ServiceOf(stackQLID string) string {
	return stackQLID[:max(strings.LastIndexByte(stackQLID, '.'), 0)]
}
