from kpiapp import create_app

app = create_app()
