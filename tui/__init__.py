"""The LOTAS screen in the terminal (Textual). Only this package imports textual."""
