package resource

// IAMActions is iamActions, for the conformance suite (package
// resource_test, which imports the engine).
var IAMActions = iamActions
