package resource

// What a tag action takes, for kinds with and without a creation time.
var (
	tagDated   = []string{"missing-tags", "tags", "older-than", "set"}
	tagUndated = []string{"missing-tags", "tags", "set"}
)

// registry is every resource kind broom knows, one line each.
var registry = []Spec{
	{Name: "ebs-snapshot", New: newEBSSnapshots, Actions: map[string][]string{"delete": {"older-than", "tags"}, "tag": tagDated}, IAM: ebsSnapshotAccess},
	{Name: "ebs-volume", New: newEBSVolumes, Actions: map[string][]string{"delete": {"unattached", "older-than", "tags", "snapshot-first"}, "tag": append([]string{"unattached"}, tagDated...)}, IAM: ebsVolumeAccess},
	{Name: "ami", New: newAMIs, Actions: map[string][]string{"delete": {"unused", "older-than", "tags"}, "tag": append([]string{"unused"}, tagDated...)}, IAM: amiAccess},
	{Name: "s3-bucket", New: newS3Buckets, Actions: map[string][]string{"ensure": {"bucket", "region", "settings"}}, IAM: s3BucketAccess},
	{Name: "elastic-ip", New: newElasticIPs, Actions: map[string][]string{"delete": {"unassociated", "tags"}, "tag": append([]string{"unassociated"}, tagUndated...)}, IAM: elasticIPAccess},
}
