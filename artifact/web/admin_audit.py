"""stub"""

from flask import Blueprint

bp = Blueprint("admin_audit", __name__)
