package resource

// registry is every resource kind broom knows, one line each.
var registry = []Spec{
	{Name: "ebs-snapshot", Actions: map[string][]string{"delete": {"older-than", "tags"}}, New: newEBSSnapshots},
}
