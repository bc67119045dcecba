package oracle

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
)

// Now is the emulator's clock in every oracle account, so dates, and the
// queries' date literals around them, are the same on every run.
var Now = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// nowLiteral is Now as a SQL literal; generated queries use it instead of
// NOW(), which would differ between the two engines' runs.
const nowLiteral = "'2026-01-15 12:00:00'"

// AccountSpec names one account the campaign runs on: the demo account or
// a random one built from a seed, and how iamsql reaches it.
type AccountSpec struct {
	// Demo selects the demo seed (internal/emulator/seed.go); otherwise the
	// account is built by RandomAccount(Seed).
	Demo bool
	Seed uint64
	// PageSize is the MaxItems iamsql asks for (0: IAM's default of 100);
	// small values make every listing paginate.
	PageSize int32
	// CallerUser signs iamsql's calls with an IAM user's key over HTTP
	// instead of the root user's in-process (sandbox): the root user's
	// keys are then not rows of access_keys. With an odd Seed the root user
	// has no keys at all.
	CallerUser bool
	// Org runs the queries in org mode over an emulated organization of
	// random accounts built from Seed (see newOrgTarget).
	Org bool
}

// Name is how reports name the account (and reproduce it).
func (a AccountSpec) Name() string {
	var s string
	if a.Org {
		return fmt.Sprintf("org-%d", a.Seed)
	}
	if a.Demo {
		s = "demo"
	} else {
		s = fmt.Sprintf("random-%d", a.Seed)
	}
	if a.PageSize > 0 {
		s += fmt.Sprintf(",page=%d", a.PageSize)
	}
	if a.CallerUser {
		s += ",caller=user"
	}
	return s
}

// NewEmulator builds the account's emulator.
func (a AccountSpec) NewEmulator() (*emulator.Emulator, error) {
	if a.Demo {
		return emulator.New(emulator.Options{Seed: "demo", Now: func() time.Time { return Now }, RandSeed: 1})
	}
	emu, err := emulator.New(emulator.Options{Now: func() time.Time { return Now }, RandSeed: int64(a.Seed) + 1})
	if err != nil {
		return nil, err
	}
	if err := RandomAccount(a.Seed).fill(emu); err != nil {
		return nil, err
	}
	if a.CallerUser && a.Seed%2 == 1 {
		// An account whose root user has no access keys at all
		// (AccountAccessKeysPresent 0): the root user deletes its own,
		// the signing key last.
		rootID, _ := emu.RootCredentials()
		var ids []string
		for _, k := range emu.Snapshot().Keys {
			if k.UserName == emulator.RootUserName && k.AccessKeyID != rootID {
				ids = append(ids, k.AccessKeyID)
			}
		}
		for _, id := range append(ids, rootID) {
			if _, err := emu.Invoke(context.Background(), rootID, "DeleteAccessKey", url.Values{"AccessKeyId": {id}}); err != nil {
				return nil, fmt.Errorf("deleting root key %s: %w", id, err)
			}
		}
	}
	if a.CallerUser && callerKey(emu.Snapshot()) == nil {
		// The caller needs an active key of an IAM user.
		if err := emu.AddUser(emulator.User{UserName: "oracle-caller", CreateDate: Now.Add(-24 * time.Hour)}); err != nil {
			return nil, err
		}
		if err := emu.AddAccessKey(emulator.AccessKey{AccessKeyID: "AKIAORACLECALLER0001", UserName: "oracle-caller", Status: "Active", CreateDate: Now.Add(-24 * time.Hour)}); err != nil {
			return nil, err
		}
	}
	return emu, nil
}

// callerKey is the key an IAM-user caller signs with: the first active key
// of an IAM user.
func callerKey(st emulator.State) *emulator.AccessKey {
	for i, k := range st.Keys {
		if k.UserName != emulator.RootUserName && k.Status == "Active" {
			return &st.Keys[i]
		}
	}
	return nil
}

// Account is the content of a random account.
type Account struct {
	Users []emulator.User
	Keys  []emulator.AccessKey
}

func (acc Account) fill(emu *emulator.Emulator) error {
	for _, u := range acc.Users {
		if err := emu.AddUser(u); err != nil {
			return err
		}
	}
	for _, k := range acc.Keys {
		if err := emu.AddAccessKey(k); err != nil {
			return err
		}
	}
	return nil
}

// Name pools: every character IAM allows in a user name ([\w+=,.@-]),
// names that are prefixes of each other, names that differ from others
// only by case or by one character, the shortest and the longest names.
var (
	baseNames = []string{
		"bob", "bobby", "bob2", "Bob.Smith", "alice", "alice_w", "Alice-Admin", "carol", "CAROL.ops",
		"dave", "erin", "frank+ci", "grace=ops", "heidi,qa", "ivan@example.com", "judy-dev", "mallory_1",
		"o", "ci-deploy", "deploy", "svc.backup", "svc.backup2", "x" + strings.Repeat("y", 62) + "z", "trent", "peggy", "victor",
		"walter", "sybil", "oscar", "ROOT2", "roots", "Eve", "eve.", "a@b.c", "_under", "0digit", "n=1,m=2",
	}
	paths    = []string{"/", "/", "/", "/engineering/", "/ops/", "/service/", "/a/b/", "/svc+x@y/"}
	services = []string{"s3", "ec2", "sts", "iam", "codebuild", "lambda", "dynamodb"}
	// usedRegions is where keys were last used; a few are outside the
	// generator's region universe on purpose.
	usedRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-south-1", "cn-north-1", "us-east-2"}
)

// RandomAccount builds an account from a seed: 0 to 40 users with paths,
// none, one or two keys each (any mix of Active and Inactive, some created
// at the same second), used and never-used keys, and one or two root keys.
func RandomAccount(seed uint64) Account {
	rng := mrand.New(mrand.NewPCG(seed, seed^0x5eed))
	var acc Account
	n := rng.IntN(41)
	if seed%5 == 0 {
		n = rng.IntN(4) // small accounts, empty ones included
	}
	names := map[string]bool{}
	pick := func() string {
		for {
			var name string
			switch rng.IntN(4) {
			case 0:
				name = fmt.Sprintf("user%d", rng.IntN(100))
			default:
				name = baseNames[rng.IntN(len(baseNames))]
			}
			if rng.IntN(8) == 0 && len(name) < 60 {
				name += []string{"s", "1", ".", "-x", "_", "+", "=", ",", "@"}[rng.IntN(9)]
			}
			if !names[strings.ToLower(name)] && !strings.EqualFold(name, emulator.RootUserName) {
				names[strings.ToLower(name)] = true
				return name
			}
		}
	}
	day := 24 * time.Hour
	date := func(maxDaysAgo int) time.Time {
		return Now.Add(-time.Duration(rng.IntN(maxDaysAgo*24*3600)) * time.Second)
	}
	// A few shared instants make ties in CreateDate and LastUsedDate.
	shared := []time.Time{Now.Add(-100 * day), Now.Add(-30 * day), Now.Add(-365 * day)}
	keyID := 0
	newKey := func(owner string, userCreated time.Time) emulator.AccessKey {
		keyID++
		k := emulator.AccessKey{
			AccessKeyID: fmt.Sprintf("AKIA%s%04d", strings.ToUpper(fmt.Sprintf("%012x", rng.Uint64()&0xffffffffffff)), keyID),
			UserName:    owner,
			Status:      []string{"Active", "Active", "Inactive"}[rng.IntN(3)],
		}
		switch rng.IntN(5) {
		case 0:
			k.CreateDate = shared[rng.IntN(len(shared))]
		default:
			span := int(Now.Sub(userCreated)/day) + 1
			k.CreateDate = Now.Add(-time.Duration(rng.IntN(span*24*3600)) * time.Second)
		}
		if k.CreateDate.Before(userCreated) {
			k.CreateDate = userCreated
		}
		if rng.IntN(3) > 0 {
			lu := &emulator.LastUsed{
				ServiceName: services[rng.IntN(len(services))],
				Region:      usedRegions[rng.IntN(len(usedRegions))],
			}
			span := int(Now.Sub(k.CreateDate)/time.Second) + 1
			lu.Date = k.CreateDate.Add(time.Duration(rng.IntN(span)) * time.Second)
			if rng.IntN(6) == 0 {
				lu.Date = shared[rng.IntN(len(shared))]
				if lu.Date.Before(k.CreateDate) {
					lu.Date = k.CreateDate
				}
			}
			k.LastUsed = lu
		}
		return k
	}
	for i := 0; i < n; i++ {
		u := emulator.User{
			UserName:   pick(),
			Path:       paths[rng.IntN(len(paths))],
			CreateDate: date(1500),
		}
		if rng.IntN(3) == 0 {
			t := u.CreateDate.Add(time.Duration(rng.IntN(int(Now.Sub(u.CreateDate)/time.Second)+1)) * time.Second)
			u.PasswordLastUsed = &t
		}
		acc.Users = append(acc.Users, u)
		for j, nk := 0, []int{0, 1, 1, 2, 2}[rng.IntN(5)]; j < nk; j++ {
			acc.Keys = append(acc.Keys, newKey(u.UserName, u.CreateDate))
		}
	}
	addContext(seed, acc.Users, acc.Keys)
	// The root user signs with its default key; sometimes it has a second.
	if rng.IntN(3) == 0 {
		acc.Keys = append(acc.Keys, newKey(emulator.RootUserName, Now.Add(-800*day)))
	}
	return acc
}

// Context pools: tag keys, groups and policies that differ only by case,
// managed policies of the same name under different ARNs, empty values
// and LIKE's wildcards in names.
var (
	tagKeys      = []string{"owner", "Owner", "team", "cost-center", "env", "aws:x", "a_b", "Name"}
	tagValues    = []string{"alice", "bob", "Bob", "", "platform", "team-a", "Team-A", "x y", "ops@example.com", "a_b"}
	groupNames   = []string{"Admins", "admins", "Developers", "ReadOnly", "ops", "Ops-2", "billing", "g_1"}
	policyArns   = []string{"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "arn:aws:iam::123456789012:policy/custom/AdministratorAccess", "arn:aws:iam::aws:policy/IAMUserChangePassword", "arn:aws:iam::123456789012:policy/readonlyaccess"}
	inlineNames  = []string{"inline-s3", "Inline-S3", "deny-all", "p1", "allow_x_y", "KeyRotation"}
	mfaSerialFmt = "GAHT%08d"
)

// addContext gives the users of a random account their context (tags,
// console password, MFA devices, groups, policies): some none, some
// several of each, and sometimes a tag whose key is one of the user's
// access key ids (the console's key description). It draws from its own
// generator, so an account's users and keys are those of the same seed
// before the context tables existed.
func addContext(seed uint64, users []emulator.User, keys []emulator.AccessKey) {
	rng := mrand.New(mrand.NewPCG(seed^0xc0, seed+0x7e57))
	// pickSome picks up to n distinct values of pool, distinct by fold
	// when fold is set (IAM's rule for tag keys and group names).
	pickSome := func(pool []string, n int, fold bool) []string {
		var out []string
		seen := map[string]bool{}
		for _, i := range rng.Perm(len(pool))[:min(n, len(pool))] {
			k := pool[i]
			if fold {
				k = strings.ToLower(k)
			}
			if !seen[k] {
				seen[k] = true
				out = append(out, pool[i])
			}
		}
		return out
	}
	count := func() int { return []int{0, 0, 0, 1, 1, 2, 3, 4}[rng.IntN(8)] }
	for i := range users {
		u := &users[i]
		if rng.IntN(6) == 0 {
			continue // a user with no context at all
		}
		for _, k := range pickSome(tagKeys, count(), true) {
			u.Tags = append(u.Tags, emulator.Tag{Key: k, Value: tagValues[rng.IntN(len(tagValues))]})
		}
		for _, k := range keys {
			if k.UserName == u.UserName && rng.IntN(3) == 0 {
				u.Tags = append(u.Tags, emulator.Tag{Key: k.AccessKeyID, Value: "rotated by ci"})
			}
		}
		if rng.IntN(2) == 0 {
			span := int(Now.Sub(u.CreateDate)/time.Second) + 1
			u.LoginProfile = &emulator.LoginProfile{
				CreateDate:            u.CreateDate.Add(time.Duration(rng.IntN(span)) * time.Second),
				PasswordResetRequired: rng.IntN(4) == 0,
			}
		}
		for j, n := 0, []int{0, 0, 1, 1, 2}[rng.IntN(5)]; j < n; j++ {
			d := emulator.MFADevice{EnableDate: u.CreateDate.Add(time.Duration(rng.IntN(3600*24*30)) * time.Second)}
			if d.EnableDate.After(Now) {
				d.EnableDate = Now
			}
			if j > 0 {
				d.SerialNumber = fmt.Sprintf(mfaSerialFmt, rng.IntN(100000000))
			}
			u.MFADevices = append(u.MFADevices, d)
		}
		u.Groups = pickSome(groupNames, count(), true)
		u.AttachedPolicies = pickSome(policyArns, count(), false)
		u.InlinePolicies = pickSome(inlineNames, count(), false)
	}
}
