from artifact import create_app

app = create_app()
