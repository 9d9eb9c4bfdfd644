"""perturbation"""
