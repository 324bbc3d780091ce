"""Streamlit helpers shared by pages: cached services, widgets, map embedding."""
