"""Customer onboarding: applications, documents, the verification workflow, risk rating."""
