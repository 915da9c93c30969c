"""The command line (``flask --app app COMMAND``): what every command shares (``common``: the
command's unit of work). Each feature's ``cli.py`` holds its commands; ``create_app`` registers
them. Commands call the same services as the web."""
