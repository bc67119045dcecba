package emulator

import "time"

// seedDemo fills the demo account (Options.Seed "demo"): users and keys of
// varied ages and statuses, root key included, dated relative to Now so the
// inventory reports always have something to find:
//
//	root       AKIAIOSFODNN7EXAMPLE (the root key)  Active    created 400d ago  never used
//	alice  /              AKIAALICE00000000001      Active    created 400d ago  used 2d ago, s3 us-east-1
//	                      AKIAALICE00000000002      Inactive  created 200d ago  never used
//	bob    /engineering/  AKIABOB0000000000001      Active    created  30d ago  used 1d ago, ec2 us-west-2
//	carol  /engineering/  AKIACAROL00000000001      Active    created 120d ago  never used
//	                      AKIACAROL00000000002      Active    created  95d ago  used 60d ago, sts us-east-1
//	dave   /ops/          (no keys)
//	erin   /ops/          AKIAERIN000000000001      Inactive  created 100d ago  used 98d ago, iam us-east-1
//	ci-deploy /service/   AKIACIDEPLOY00000001      Active    created 650d ago  used 12h ago, codebuild eu-west-1
//
// Users were created 500, 300, 200, 100, 150 and 700 days ago respectively;
// the account itself 800 days ago. User ids are derived from the names.
// Secrets of the non-root keys are random.
//
// Their context (demoContext): owner and team tags, key descriptions (the
// console's tag named after the key id), console passwords, MFA, groups
// and policies:
//
//	alice      owner alice@example.com, team platform; AKIAALICE00000000001 "laptop CLI";
//	           console, MFA; group admins; AdministratorAccess
//	bob        owner bob@example.com, team payments; console, no MFA;
//	           group developers; ReadOnlyAccess; one inline policy
//	carol      owner carol@example.com, team data; AKIACAROL00000000001 "nightly ETL";
//	           no console; groups data, developers; AmazonS3FullAccess
//	dave       no tags; console, MFA; group ops
//	erin       owner erin@example.com; console, no MFA; group ops; IAMFullAccess
//	ci-deploy  owner platform-team@example.com, team platform; AKIACIDEPLOY00000001
//	           "GitHub Actions deploy"; no console; PowerUserAccess; one inline policy
func (e *Emulator) seedDemo() error {
	now := e.nowUTC()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	day := 24 * time.Hour

	e.rootCreated = ago(800 * day)
	users := []struct {
		name, path string
		created    time.Duration
	}{
		{"alice", "/", 500 * day},
		{"bob", "/engineering/", 300 * day},
		{"carol", "/engineering/", 200 * day},
		{"dave", "/ops/", 100 * day},
		{"erin", "/ops/", 150 * day},
		{"ci-deploy", "/service/", 700 * day},
	}
	for _, u := range users {
		err := e.addUserLocked(User{
			UserName:   u.name,
			Path:       u.path,
			UserID:     deterministicUserID(u.name),
			CreateDate: ago(u.created),
		})
		if err != nil {
			return err
		}
	}
	used := func(d time.Duration, service, region string) *LastUsed {
		return &LastUsed{Date: ago(d), ServiceName: service, Region: region}
	}
	keys := []AccessKey{
		{AccessKeyID: e.rootKeyID, SecretAccessKey: e.rootSecret, UserName: RootUserName, Status: statusActive, CreateDate: ago(400 * day)},
		{AccessKeyID: "AKIAALICE00000000001", UserName: "alice", Status: statusActive, CreateDate: ago(400 * day), LastUsed: used(2*day, "s3", "us-east-1")},
		{AccessKeyID: "AKIAALICE00000000002", UserName: "alice", Status: statusInactive, CreateDate: ago(200 * day)},
		{AccessKeyID: "AKIABOB0000000000001", UserName: "bob", Status: statusActive, CreateDate: ago(30 * day), LastUsed: used(1*day, "ec2", "us-west-2")},
		{AccessKeyID: "AKIACAROL00000000001", UserName: "carol", Status: statusActive, CreateDate: ago(120 * day)},
		{AccessKeyID: "AKIACAROL00000000002", UserName: "carol", Status: statusActive, CreateDate: ago(95 * day), LastUsed: used(60*day, "sts", "us-east-1")},
		{AccessKeyID: "AKIAERIN000000000001", UserName: "erin", Status: statusInactive, CreateDate: ago(100 * day), LastUsed: used(98*day, "iam", "us-east-1")},
		{AccessKeyID: "AKIACIDEPLOY00000001", UserName: "ci-deploy", Status: statusActive, CreateDate: ago(650 * day), LastUsed: used(12*time.Hour, "codebuild", "eu-west-1")},
	}
	for _, k := range keys {
		if err := e.addKeyLocked(k); err != nil {
			return err
		}
	}
	for name, c := range demoContext(ago) {
		u := e.users[name]
		u.Tags, u.LoginProfile, u.MFADevices = c.Tags, c.LoginProfile, c.MFADevices
		u.Groups, u.AttachedPolicies, u.InlinePolicies = c.Groups, c.AttachedPolicies, c.InlinePolicies
		if c.PasswordLastUsed != nil {
			u.PasswordLastUsed = c.PasswordLastUsed
		}
		if err := e.normalizeContextLocked(u); err != nil {
			return err
		}
	}
	return nil
}

// awsPolicy is the ARN of an AWS managed policy.
func awsPolicy(name string) string { return "arn:aws:iam::aws:policy/" + name }

// demoContext is the demo users' context, by lower-cased user name.
func demoContext(ago func(time.Duration) time.Time) map[string]User {
	day := 24 * time.Hour
	at := func(d time.Duration) *time.Time { t := ago(d); return &t }
	console := func(d time.Duration) *LoginProfile { return &LoginProfile{CreateDate: ago(d)} }
	mfa := func(name string, d time.Duration) []MFADevice {
		return []MFADevice{{SerialNumber: "arn:aws:iam::" + DefaultAccountID + ":mfa/" + name, EnableDate: ago(d)}}
	}
	return map[string]User{
		"alice": {
			Tags:         []Tag{{"owner", "alice@example.com"}, {"team", "platform"}, {"AKIAALICE00000000001", "laptop CLI"}},
			LoginProfile: console(480 * day), PasswordLastUsed: at(3 * day), MFADevices: mfa("alice", 470*day),
			Groups: []string{"admins"}, AttachedPolicies: []string{awsPolicy("AdministratorAccess")},
		},
		"bob": {
			Tags:         []Tag{{"owner", "bob@example.com"}, {"team", "payments"}},
			LoginProfile: console(290 * day), PasswordLastUsed: at(5 * day),
			Groups: []string{"developers"}, AttachedPolicies: []string{awsPolicy("ReadOnlyAccess")}, InlinePolicies: []string{"payments-s3"},
		},
		"carol": {
			Tags:   []Tag{{"owner", "carol@example.com"}, {"team", "data"}, {"AKIACAROL00000000001", "nightly ETL"}},
			Groups: []string{"data", "developers"}, AttachedPolicies: []string{awsPolicy("AmazonS3FullAccess")},
		},
		"dave": {
			LoginProfile: console(90 * day), MFADevices: mfa("dave", 90*day), Groups: []string{"ops"},
		},
		"erin": {
			Tags:         []Tag{{"owner", "erin@example.com"}},
			LoginProfile: console(140 * day), Groups: []string{"ops"}, AttachedPolicies: []string{awsPolicy("IAMFullAccess")},
		},
		"ci-deploy": {
			Tags:             []Tag{{"owner", "platform-team@example.com"}, {"team", "platform"}, {"AKIACIDEPLOY00000001", "GitHub Actions deploy"}},
			AttachedPolicies: []string{awsPolicy("PowerUserAccess")}, InlinePolicies: []string{"deploy-artifacts"},
		},
	}
}
