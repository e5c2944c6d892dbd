package resource

// Monthly prices used to estimate what a deletion saves. Source: the public
// Amazon EC2 and EBS pricing pages, us-east-1, read on 2026-11-25. They are
// estimates: snapshots are billed for changed blocks only, so the figure for
// a snapshot is an upper bound.
const (
	snapshotUSDPerGiBMonth = 0.05
)
