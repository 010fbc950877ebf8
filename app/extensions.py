"""Extension objects, created without an application and bound in create_app."""

from flask_cors import CORS
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.database import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
cors = CORS()
