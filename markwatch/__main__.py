from markwatch.cli import app

app(prog_name="markwatch")
