"""The accessibility statement's feedback channel (laki digitaalisten palvelujen tarjoamisesta
306/2019): `accessibility_feedback`, a message with the time it was sent, the language it was
read in, the contact its sender chose to give (none required) and the area it was sent from
(none when sent from outside any area: the statement is public).

The area is named by its code, not by an `area_id`: the feedback is not a ledger row of an
area (no row-level security holds it; the statement's public form writes it in no area), and
the tables with an `area_id` are exactly those held to their area (revision 0004).

Revision ID: 0005
Revises: 0004
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "accessibility_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("area_code", sa.String(40), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(200), nullable=True),
        sa.Column("language", sa.String(2), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accessibility_feedback"),
        sa.ForeignKeyConstraint(["area_code"], ["areas.code"], name="fk_accessibility_feedback_area_code_areas"),
    )
    op.create_index("ix_accessibility_feedback_area_code", "accessibility_feedback", ["area_code"])


def downgrade() -> None:
    op.drop_index("ix_accessibility_feedback_area_code", table_name="accessibility_feedback")
    op.drop_table("accessibility_feedback")
