"""Staff access: grants, the support view, access alerts, administration, staff invitations."""
