"""What the demo commands share (demo_data creates the campaign, demo_activity fills it), kept
here so no command imports another command's module."""

DEMO_CAMPAIGN = "Summer Drop (demo)"
