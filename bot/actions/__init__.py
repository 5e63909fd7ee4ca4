"""Custom actions of the Red Mailbox bot (rasa_sdk). All user-facing text lives in bot/domain/."""
