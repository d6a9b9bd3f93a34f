"""Small models written as a user would write them, for the demo and the tutorials.

The record treats this folder as the user's code (not as gradviz's), so traces of these models show their lines.
"""
