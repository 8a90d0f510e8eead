"""The application services the CLI, the scheduler and the review site call: scan, notify, schedule,
rescreen, runs, evaluation. No terminal output here; markwatch/cli/ presents what they return."""
