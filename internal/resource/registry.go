package resource

// What a tag action takes, for kinds with and without a creation time.
var (
	tagDated   = []string{"missing-tags", "tags", "older-than", "name", "set"}
	tagUndated = []string{"missing-tags", "tags", "name", "set"}
)

// registry is every resource kind broom knows, one line each; the Spec is
// in the kind's file.
var registry = []Spec{
	ebsSnapshotSpec,
	ebsVolumeSpec,
	amiSpec,
	s3BucketSpec,
	elasticIPSpec,
	natGatewaySpec,
	securityGroupSpec,
	rdsSnapshotSpec,
	networkInterfaceSpec,
	ec2InstanceSpec,
	loadBalancerSpec,
	ecrImageSpec,
	logGroupSpec,
}
