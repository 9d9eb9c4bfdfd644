"""factorizations"""
