Console.WriteLine("training");
