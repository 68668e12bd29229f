package dialogs

// SubmissionKey is exported for the tests in package dialogs_test.
var SubmissionKey = submissionKey
