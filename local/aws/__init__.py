"""What AWS does that moto does not: each module adds one AWS behaviour over moto's models."""
