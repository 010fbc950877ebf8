"""The roles tables, declared on the application's base."""

from app.database import Base
from roles import define_role_models

role_models = define_role_models(Base)
Application = role_models.application
SystemPermission = role_models.system_permission
ApplicationSystemPermission = role_models.application_system_permission
