"""The Streamlit dashboard. Only this package imports streamlit."""
