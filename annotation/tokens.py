"""Public ids shown to coders: random tokens from an alphabet that cannot spell a method, K or
an algorithm (one home for the alphabet; models and the intrusion models draw from it)."""
import secrets

# Crockford-like alphabet without K, L, O, I, U: a token can never spell "k25", "kmeans",
# "label", "vector" or "joint".
TOKEN_ALPHABET = "0123456789ABCDEFGHJMNPQRSTVWXYZ"


def new_token(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(length))
