from synthgen.cli import run

run()
