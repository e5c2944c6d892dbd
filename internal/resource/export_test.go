package resource

// IAMActions is iamActions, for the conformance suite (package
// resource_test, which imports the engine).
var IAMActions = iamActions

// InstanceResource is instanceResource, for ec2_instance_test.go.
var InstanceResource = instanceResource
